"""The docker target: one machine, engine containers behind an nginx load balancer."""
