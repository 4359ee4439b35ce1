"""`modelstack graph`: a render as a picture of what runs and who sends traffic where.

model.py is the kind-neutral picture content; kubernetes_topology.py and docker_topology.py
build it from a render of their target, topology.py picks one; mermaid.py and
svg_picture.py (with layered_layout.py) draw it.
"""
