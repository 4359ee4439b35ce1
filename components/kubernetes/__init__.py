"""The Kubernetes target: pure manifest builders (manifests/) and Pulumi components."""
