"""The commands behind ``pubpipe``: one module each. They sit on the cli floor: they may call the
pipeline and everything below it, and nothing below them imports them."""
