"""Files the docker gateway reads besides its config: the njs module and the shared endpoint's
constant script. Free of the plan: `modelstack validate` (offline/nginx_check.py) reads them.
"""

from __future__ import annotations

from pathlib import Path

# Debian's libnginx-mod-http-js and the official nginx images both install it here.
NJS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"
SCRIPT_NAME = "shared_endpoint.js"
SCRIPT_TEMPLATE = (
    Path(__file__).resolve().parent.parent.parent / "templates" / "nginx" / SCRIPT_NAME
)
# Uploaded when the gateway container is created: into a directory the image has (the
# config's directory is made when the container starts).
SCRIPT_PATH = f"/etc/nginx/modelstack-{SCRIPT_NAME}"


def script_text() -> str:
    return SCRIPT_TEMPLATE.read_text(encoding="utf-8")
