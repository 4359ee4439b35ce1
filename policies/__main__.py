"""Entry point the Pulumi CLI runs for `--policy-pack policies`: build the pack and serve it.

Kept tiny on purpose: constructing PolicyPack starts a gRPC server and blocks, so the
policies themselves live (and are tested) in components/guardrails/.
"""

from pulumi_policy import PolicyPack

from components.guardrails.pulumi_pack import PACK_NAME, pulumi_policies

PolicyPack(name=PACK_NAME, policies=pulumi_policies())
