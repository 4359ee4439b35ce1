"""`modelstack status`: what runs, compared with what the stack file asks for.

model.py holds the vocabulary (statuses, conditions, error codes with guidance), derive.py
maps Kubernetes objects to it (pure), kubernetes_reader.py fetches those objects. The docker
target does the same with docker_derive.py (containers -> the same model, pure) and
docker_reader.py (the Docker Engine API through docker_api.py and docker_log_stream.py).
"""
