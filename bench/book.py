"""The synthetic book of the speed targets: 40 chapters of 2,500 words, two 3000 x 2000 photos each.

``make_book(folder, chapters=40, words=2500, photos=2)`` writes ``book.toml``, ``chNN.md`` and
``img/`` (JPEG photos, distinct per chapter) deterministically: the same arguments give the same
bytes. ``links=True``: every chapter but the last ends with a link to the next one, as blogs
link their own posts (each link prints that chapter's page, "see p. 42"). ``touch_chapter(folder,
n)`` changes one word of chapter n (the one-chapter-changed build).
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

_SYLLABLES = ("ka", "lo", "mi", "ter", "an", "sol", "ve", "ri", "du", "nor", "pha", "el", "qui",
              "bra", "to", "sen", "ul", "mar", "ig", "cor", "da", "fe", "lin", "os", "tra", "ne")


def _vocabulary(rng: random.Random, n: int = 3000) -> list[str]:
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))))
    return sorted(words)


def _photo(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Something with a photo's statistics: smooth shapes, gradients and fine grain."""
    w, h = size
    small = Image.new("RGB", (w // 10, h // 10), tuple(rng.randrange(256) for _ in range(3)))
    d = ImageDraw.Draw(small)
    for _ in range(40):
        x, y = rng.randrange(w // 10), rng.randrange(h // 10)
        r = rng.randrange(10, 120)
        d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    im = small.filter(ImageFilter.GaussianBlur(8)).resize((w, h), Image.BICUBIC)
    grain = Image.effect_noise((w, h), 18).convert("RGB")
    return Image.blend(im, grain, 0.12)


def make_book(folder: Path, chapters: int = 40, words: int = 2500, photos: int = 2,
              size: tuple[int, int] = (3000, 2000), links: bool = False) -> Path:
    folder = Path(folder)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    rng = random.Random(20240501)
    vocab = _vocabulary(rng)
    (folder / "book.toml").write_text(
        '[book]\ntitle = "A Synthetic Book"\nauthors = ["Bench Author"]\nlanguage = "en"\n'
        'date = "2024-05-01"\n\n[pdf]\npage-size = "6in 9in"\n', encoding="utf-8")
    titles = [f"Chapter {c}: {' '.join(rng.choice(vocab) for _ in range(3)).title()}"
              for c in range(1, chapters + 1)]
    for c in range(1, chapters + 1):
        lines = [f"# {titles[c - 1]}", ""]
        left = words
        paragraphs = []
        while left > 0:
            n = min(left, rng.randrange(60, 140))
            sent, para = [], []
            for _ in range(n):
                sent.append(rng.choice(vocab))
                if len(sent) >= rng.randrange(8, 20):
                    para.append(" ".join(sent).capitalize() + ".")
                    sent = []
            if sent:
                para.append(" ".join(sent).capitalize() + ".")
            paragraphs.append(" ".join(para))
            left -= n
        # sections, photos spread through the chapter, and a link to the next chapter
        at_photos = {len(paragraphs) * (k + 1) // (photos + 1) for k in range(photos)}
        for i, para in enumerate(paragraphs):
            if i and i % 7 == 0:
                lines += [f"## {' '.join(rng.choice(vocab) for _ in range(2)).title()}", ""]
            lines += [para, ""]
            if i in at_photos:
                k = sorted(at_photos).index(i) + 1
                name = f"img/ch{c:02d}-{k}.jpg"
                path = folder / name
                if not path.is_file():
                    _photo(rng, size).save(path, "JPEG", quality=88)
                else:
                    rng.random()
                lines += [f"![Photo {k} of chapter {c}]({name})", ""]
        if c < chapters and links:
            lines += [f"Read on in [chapter {c + 1}, {titles[c]}](ch{c + 1:02d}.md).", ""]
        elif c < chapters:
            lines += [f"Read on in chapter {c + 1}, {titles[c]}.", ""]
        (folder / f"ch{c:02d}.md").write_text("\n".join(lines), encoding="utf-8")
    return folder


def touch_chapter(folder: Path, n: int) -> None:
    """Change one word in chapter n (as an author fixing a typo would)."""
    path = Path(folder) / f"ch{n:02d}.md"
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    i = next(k for k, line in enumerate(lines) if line and not line.startswith(("#", "!")))
    words = lines[i].split(" ")
    words[3] = "edited" if words[3] != "edited" else "changed"
    lines[i] = " ".join(words)
    path.write_text("\n".join(lines), encoding="utf-8")
