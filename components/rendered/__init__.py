"""Reading a render back, for both `modelstack diff` and `modelstack graph`: how a rendered
object is named and classified (objects.py), and where the docker gateway sends each route
(nginx_routes.py)."""
