"""The guardrails as pulumi-policy policies, for `pulumi preview --policy-pack policies`.

Building the policies is free of side effects; only `PolicyPack(...)` in
policies/__main__.py starts the analyzer's gRPC server.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.guardrails.definitions import (
    Guardrail,
    OptionNotVisible,
    ResourceGuardrail,
    StackGuardrail,
)
from components.guardrails.enforcement import default_level
from components.guardrails.registry import GUARDRAILS
from components.guardrails.subject import ResourceOptions, Subject

PACK_NAME = "modelstack-guardrails"


def subject_from_args(args: ResourceValidationArgs) -> Subject:
    # retainOnDelete stays None: ResourceValidationArgs.opts (PolicyResourceOptions) has no
    # such field in pulumi-policy 1.21.
    options = ResourceOptions(protect=bool(args.opts.protect), retain_on_delete=None)
    return Subject(args.resource_type, args.name, args.props, options, args.urn)


def subject_from_resource(resource: PolicyResource) -> Subject:
    # Stack validations see outputs; for Kubernetes objects they mirror the inputs.
    options = ResourceOptions(protect=bool(resource.opts.protect), retain_on_delete=None)
    return Subject(resource.resource_type, resource.name, resource.props, options, resource.urn)


def _resource_policy(guardrail: ResourceGuardrail) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        try:
            messages = guardrail.check(subject_from_args(args))
        except OptionNotVisible as missing:
            args.not_applicable(missing.reason)
            return
        for message in messages:
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=guardrail.name,
        description=guardrail.description,
        validate=validate,
        enforcement_level=EnforcementLevel(default_level(guardrail.name).value),
        remediation_steps=guardrail.remediation,
    )


def _stack_policy(guardrail: StackGuardrail) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        subjects = [subject_from_resource(resource) for resource in args.resources]
        for subject, message in guardrail.check(subjects):
            report_violation(f"{subject.display}: {message}", subject.urn)

    return StackValidationPolicy(
        name=guardrail.name,
        description=guardrail.description,
        validate=validate,
        enforcement_level=EnforcementLevel(default_level(guardrail.name).value),
        remediation_steps=guardrail.remediation,
    )


def to_pulumi_policy(guardrail: Guardrail) -> Policy:
    if isinstance(guardrail, ResourceGuardrail):
        return _resource_policy(guardrail)
    return _stack_policy(guardrail)


def pulumi_policies() -> list[Policy]:
    return [to_pulumi_policy(guardrail) for guardrail in GUARDRAILS]
