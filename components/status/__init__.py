"""`modelstack status`: what runs, compared with what the stack file asks for.

model.py holds the vocabulary (statuses, conditions, error codes with guidance), derive.py
maps Kubernetes objects to it (pure), kubernetes_reader.py fetches those objects. A reader
for another target produces the same model from its own objects.
"""
