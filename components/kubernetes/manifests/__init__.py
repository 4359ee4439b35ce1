"""Pure functions from a plan to Kubernetes object bodies (camelCase, as the API wants).

Nothing here touches Pulumi: the component layer wraps these bodies in resources.
"""
