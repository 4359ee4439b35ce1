"""Pulumi entry point: the stack file's desired state becomes resources (components/program.py)."""

from components.program import run

run()
