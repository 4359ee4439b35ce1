"""Checks that run during `pulumi up`, where Pulumi runs (dynamic providers)."""
