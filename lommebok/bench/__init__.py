"""``lommebok bench``: benchmark suites, each reported as a ratio to the raw ES256 limit of the same run."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from lommebok.bench.common import Backends, line, measure_limits

#: suite name -> module under lommebok.bench exposing run(limits, quick, backends)
SUITES = {
    "formats": ("sd_jwt", "mdoc", "status_list"),
    "issuer": ("issuer_http",),
    "verifier": ("verifier_http",),
}


def run_suites(suites: list[str], *, quick: bool = False, backends: Backends | None = None
               ) -> Iterator[dict[str, object]]:
    """Run the named suites (default: all); the ES256 limits come first."""
    limits = measure_limits(0.6 if quick else 2.0)
    yield line("es256_sign_raw", limits.sign, limits.sign, note="cryptography, P-256").as_dict()
    yield line("es256_verify_raw", limits.verify, limits.verify, note="cryptography, P-256").as_dict()
    names = suites or list(SUITES)
    for suite in names:
        modules = SUITES.get(suite)
        if modules is None:
            raise SystemExit(f"unknown bench suite {suite!r}; known: {', '.join(SUITES)}")
        for mod_name in modules:
            try:
                mod = importlib.import_module(f"lommebok.bench.{mod_name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"lommebok.bench.{mod_name}":
                    raise
                continue
            for bench_line in mod.run(limits, quick, backends or Backends()):
                yield bench_line.as_dict()
