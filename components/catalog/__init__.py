"""Facts about hardware and engines that the plan draws on (sources: shared/*.md)."""
