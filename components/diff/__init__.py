"""`modelstack diff`: compare two renders, resource by resource, and say what changes.

The pure parts (renders in, a Diff out: compare.py and what it calls) live apart from the
formats (format_*.py) and from the command that drives them (commands/diff.py).
"""
