"""`modelstack status`: what runs, compared with what the stack file asks for.

model.py holds the vocabulary (statuses, conditions, error codes with guidance). Each target
reads what runs and states per slot what it found: kubernetes_reader.py fetches objects and
kubernetes_facts.py (+ kubernetes_pod_facts.py, kubernetes_objects.py) turns them into slot
facts; docker_reader.py fetches containers (docker_api.py, docker_log_stream.py) and
docker_facts.py (+ docker_engine_facts.py, docker_containers.py) does the same, with
docker_derive.py as its entry. From the facts on it is one path for both: slot_rules.py
decides conditions and the slot's status, report_rollup.py rolls slots up into deployments
and the stack, log_classifiers.py names causes in logs. All of it but the readers is pure.
"""
