"""The routes of a rendered gateway config (templates/nginx/nginx.conf.j2), read back.

The picture of a docker stack shows what nginx will do, so it reads nginx's own config
rather than recomputing it from the plan: each prefix location, the upstream it proxies to
with its servers (weights, backups), or the 503 it answers instead. The parser knows
nginx's syntax (directives, blocks, quotes, comments), not our template's layout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# The same value the gateway's config is written from: what is read back compares equal.
from components.docker.gateway_config import UpstreamServer


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def children(self, name: str) -> list[Directive]:
        return [child for child in self.block or [] if child.name == name]

    def value(self, name: str) -> list[str] | None:
        found = self.children(name)
        return found[0].args if found else None


@dataclass(frozen=True)
class NginxRoute:
    path: str
    hosts: tuple[str, ...]
    upstream: str | None
    servers: tuple[UpstreamServer, ...] = ()
    # least_conn, ip_hash, ... (None: round robin, weighted by the servers' weights).
    balancing: str | None = None
    read_timeout: str | None = None
    # The status and body answered when nothing is proxied (a stopped deployment).
    answer: tuple[str, ...] = field(default_factory=tuple)


BALANCING = ("least_conn", "ip_hash", "hash", "random")
# The shared endpoint's table of models, set in its njs location (templates/nginx/).
ROUTES_VARIABLE = "$modelstack_routes"


def parse_routes(config: str) -> list[NginxRoute]:
    """Every prefix location of every server block (exact `=` locations are the gateway's own)."""
    http = [d for d in parse(config) if d.name == "http"]
    blocks = [child for d in http for child in d.block or []]
    upstreams = {d.args[0]: d for d in blocks if d.name == "upstream" and d.args}
    engines = _engine_stand_ins(blocks)
    routes = []
    for server in (d for d in blocks if d.name == "server"):
        if (server.value("listen") or [""])[0] in engines:
            continue  # one engine's local stand-in, not a route
        names = server.value("server_name") or []
        hosts = tuple(name for name in names if name != "_")
        for location in server.children("location"):
            if not location.args or location.args[0] == "=" or _shared(location):
                continue
            routes.append(_route(location, hosts, upstreams, engines))
    return routes


@dataclass(frozen=True)
class SharedEndpoint:
    """The gateway's one OpenAI base URL (docker/shared_endpoint.py): model -> upstream."""

    path: str
    models: dict[str, str]


def parse_shared_endpoint(config: str) -> SharedEndpoint | None:
    """The shared endpoint of a gateway config, or None: its njs location's table of models
    (-> named locations), each named location's upstream."""
    http = [d for d in parse(config) if d.name == "http"]
    servers = [child for d in http for child in d.block or [] if child.name == "server"]
    for server in servers:
        locations = server.children("location")
        named = {
            location.args[0]: (location.value("proxy_pass") or [""])[0].split("://", 1)[-1]
            for location in locations
            if location.args and location.args[0].startswith("@shared_")
        }
        for location in locations:
            table = next(
                (d.args[1] for d in location.children("set") if d.args[:1] == [ROUTES_VARIABLE]),
                None,
            )
            if table is None or not location.args:
                continue
            routes = json.loads(_unquoted(table))
            models = {model: named.get(target, "") for model, target in routes.items()}
            return SharedEndpoint(location.args[-1].rstrip("/"), models)
    return None


def _shared(location: Directive) -> bool:
    """The shared endpoint's own locations: its njs entry and its named locations."""
    return location.args[-1].startswith("@") or bool(location.children("js_content"))


def _unquoted(text: str) -> str:
    r"""A quoted string's value as nginx reads it: `\\` is `\`, `\'` and `\"` are quotes."""
    return re.sub(r"\\([\\'\"])", r"\1", text)


def _engine_stand_ins(blocks: list[Directive]) -> dict[str, str]:
    """Server blocks that stand for one engine: their listen address -> the engine's address.

    The gateway balances over local addresses whose server block proxies to the engine by
    name (`set $engine "<container>:<port>"`), resolved when a request comes.
    """
    found = {}
    for server in (d for d in blocks if d.name == "server"):
        listen = server.value("listen")
        for location in server.children("location"):
            engine = next(
                (d.args[1] for d in location.children("set") if d.args[:1] == ["$engine"]), None
            )
            if listen and engine:
                found[listen[0]] = engine
    return found


def _route(
    location: Directive,
    hosts: tuple[str, ...],
    upstreams: dict[str, Directive],
    engines: dict[str, str],
) -> NginxRoute:
    path = location.args[-1]
    proxy = location.value("proxy_pass")
    timeout = (location.value("proxy_read_timeout") or [None])[0]
    if not proxy:
        return NginxRoute(path, hosts, None, answer=tuple(location.value("return") or ()))
    # proxy_pass http://<upstream>/ : the upstream is the URL's host part.
    name = proxy[0].split("://", 1)[-1].split("/", 1)[0]
    upstream = upstreams.get(name)
    if upstream is None:
        return NginxRoute(path, hosts, name, read_timeout=timeout)
    balancing = next((d.name for d in upstream.block or [] if d.name in BALANCING), None)
    servers = tuple(_server(d.args, engines) for d in upstream.children("server") if d.args)
    return NginxRoute(path, hosts, name, servers, balancing, timeout)


def _server(args: list[str], engines: dict[str, str]) -> UpstreamServer:
    weight = next((int(a.split("=", 1)[1]) for a in args[1:] if a.startswith("weight=")), 1)
    return UpstreamServer(engines.get(args[0], args[0]), weight, "backup" in args[1:])


# -- nginx syntax ------------------------------------------------------------------------------


def parse(text: str) -> list[Directive]:
    directives, rest = _directives(_tokens(text))
    if rest is not None:
        raise ValueError("unbalanced '}' in nginx config")
    return directives


def _directives(tokens: Iterator[str]) -> tuple[list[Directive], str | None]:
    """Directives up to the end of input (None) or a closing brace ("}")."""
    found: list[Directive] = []
    words: list[str] = []
    for token in tokens:
        if token == ";":
            if words:
                found.append(Directive(words[0], words[1:]))
            words = []
        elif token == "{":
            block, closing = _directives(tokens)
            if closing is None:
                raise ValueError("unclosed '{' in nginx config")
            found.append(Directive(words[0] if words else "", words[1:], block))
            words = []
        elif token == "}":
            return found, "}"
        else:
            words.append(token)
    return found, None


def _tokens(text: str) -> Iterator[str]:
    """Words, quoted strings (quotes removed), and the punctuation `{`, `}`, `;`."""
    index, length = 0, len(text)
    while index < length:
        character = text[index]
        if character.isspace():
            index += 1
        elif character == "#":
            newline = text.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif character in "{};":
            yield character
            index += 1
        elif character in "'\"":
            end = index + 1
            while end < length and text[end] != character:
                end += 2 if text[end] == "\\" else 1
            yield text[index + 1 : end]
            index = end + 1
        else:
            end = index
            while end < length and not text[end].isspace() and text[end] not in "{};":
                end += 1
            yield text[index:end]
            index = end
