"""Guardrails: the policies a stack must meet before it reaches a cluster.

Each policy is a pure function over resources as Pulumi registers them (type token, name,
inputs in wire format, resource options). Two adapters run the same functions:
`pulumi_pack` for `pulumi preview --policy-pack policies` and `offline` for
`modelstack validate`. `enforcement` says how strictly each environment applies them.
"""
