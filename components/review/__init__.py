"""Review before apply: compare two renders (diff) and draw one (topology).

The pure parts (renders in, structured results out) live apart from formatting and from
the `modelstack diff` / `modelstack graph` commands that drive them.
"""
