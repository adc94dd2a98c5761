#!/usr/bin/env bash
# Install the system packages pubpipe needs when they are missing: Java (EPUBCheck), fonts that cover
# Latin, Greek, Cyrillic, CJK, Arabic, Hebrew and emoji (every glyph drawn in the PDF), poppler (PDF
# checks in tests), zbar (QR codes decoded in tests), and Node.js, npm and Chromium for Ace by DAISY,
# the EPUB accessibility checker the tests run (tools/setup-ace.sh installs Ace itself from npm).
# Debian/Ubuntu with apt; elsewhere it says what is missing and goes on.
# --author: only what using pubpipe needs (Java for `pubpipe check`, Pango, fonts), not the tools
# the tests use.
set -u
author=0
[ "${1:-}" = "--author" ] && author=1
need=()
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ "$author" -eq 0 ]; then
  command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
  command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
fi
fc_has() { fc-list 2>/dev/null | grep -qi "$1"; }
fc_has "NotoSans-Regular" || need+=(fonts-noto-core)
fc_has "NotoSansCJK" || need+=(fonts-noto-cjk)
fc_has "NotoColorEmoji" || need+=(fonts-noto-color-emoji)
fc_has "DejaVuSans" || need+=(fonts-dejavu-core)
# PDF writer: HarfBuzz's subsetter (WeasyPrint's fontTools fallback takes seconds per CJK font) and a
# CMYK ICC profile for the PDF/X output intent (Ghostscript's, in libgs-common).
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need+=(libharfbuzz-subset0)
[ -f /usr/share/color/icc/ghostscript/default_cmyk.icc ] || need+=(libgs-common)
[ ${#need[@]} -eq 0 ] && exit 0
echo "setup: installing system packages: ${need[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: no apt-get here; please install: ${need[*]}" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || true
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fc-cache -f >/dev/null 2>&1 || true
