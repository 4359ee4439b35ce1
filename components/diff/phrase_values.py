"""How the summary writes values both target's phrases share: images, weights, counts."""

from __future__ import annotations

from typing import Any

from components.diff.value_text import show_value

_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def show_image(old: Any, new: Any) -> tuple[str, str]:
    """vllm/vllm-openai:v0.30.0 -> v0.31.0: the repository once when only the tag moves."""
    before, after = show_value(old), show_value(new)
    old_repo, _, _ = _split_image(before)
    new_repo, separator, new_tag = _split_image(after)
    return (before, new_tag) if old_repo == new_repo and separator else (before, after)


def _split_image(image: str) -> tuple[str, str, str]:
    if "@" in image:
        return image.partition("@")
    repository, separator, tag = image.rpartition(":")
    if not separator or "/" in tag:
        return image, "", ""
    return repository, separator, tag


def show_weights(rules: list[dict[str, int]]) -> str:
    """'blue 90%, green 10%' per rule, rules separated by '; '."""
    if not rules:
        return "(no split)"
    return "; ".join(", ".join(f"{name} {share}%" for name, share in r.items()) for r in rules)


def shares(weights: dict[str, int]) -> dict[str, int]:
    """Relative weights as whole percentages."""
    total = sum(weights.values())
    return {name: round(100 * weight / total) for name, weight in weights.items()} if total else {}


def count_of(number: int, noun: str) -> str:
    """'one engine container', 'three engine containers', '12 engine containers'."""
    word = _NUMBER_WORDS[number] if number < len(_NUMBER_WORDS) else str(number)
    return f"{word} {noun}" if number == 1 else f"{word} {noun}s"
