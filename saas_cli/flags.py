"""`saas flags eval`: evaluate the configured flags for given attributes, exactly as the edge would."""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

from edge.config import CONFIG_FILE, CONFIG_PATH_ENV, ConfigError
from edge.flags import EvalContext, FlagEngine
from edge.flagstore import encode_experiments, encode_flags
from edge.remote_config import load_bundled
from edge.sticky import StickyBuckets


def parse_attribute(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"attribute {text!r} is not name=value")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name, value


def _payload(args: argparse.Namespace) -> tuple[dict[str, Any], tuple[str, ...] | None, int]:
    """(payload, forwarded features, sticky cookie bound)."""
    if args.payload:
        return json.loads(Path(args.payload).read_text()), None, 3 * 1024
    path = Path(args.config or os.environ.get(CONFIG_PATH_ENV) or CONFIG_FILE)
    # A synthesized config has a `remote` section (issuers learnt at run time); its flags are all bundled.
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read edge config {path}: {exc}") from exc
    config = load_bundled(document)
    return dict(config.flags.payload), config.flags.forward, config.flags.sticky_bucketing.max_cookie_bytes


def run_eval(args: argparse.Namespace) -> int:
    try:
        payload, forward, max_cookie_bytes = _payload(args)
        engine = FlagEngine(payload)
    except (OSError, ValueError, ConfigError) as exc:
        print(f"saas flags eval: {exc}", file=sys.stderr)
        return 2
    attributes = dict(args.attr or [])
    keys = args.feature or list(forward or engine.features)
    sticky = None if args.sticky_cookie is None else StickyBuckets(engine, max_cookie_bytes=max_cookie_bytes)
    docs = None if sticky is None else sticky.load(args.sticky_cookie, attributes)
    # Separate copies: eval_feature and evaluate each update their documents as the SDK would.
    ctx = EvalContext(attributes, sticky_docs=copy.deepcopy(docs))
    results = {key: engine.eval_feature(key, ctx) for key in keys}
    evaluation = engine.evaluate(attributes, keys, sticky_docs=docs)
    if args.json:
        print(
            json.dumps({key: result.to_dict() for key, result in results.items()}, indent=2, sort_keys=True)
        )
        return 0
    width = max((len(key) for key in results), default=0)
    for key, result in results.items():
        experiment = result.experiment_result
        suffix = (
            f"  ({experiment.key} of {result.experiment['key']})" if experiment and result.experiment else ""
        )
        print(f"{key:<{width}}  {json.dumps(result.value)}  [{result.source}]{suffix}")
    print(f"x-flags: {encode_flags(evaluation.flags, max_bytes=8192)}")
    print(f"x-experiments: {encode_experiments(evaluation.experiments)}")
    if sticky is not None:
        cookie = sticky.updated_cookie(args.sticky_cookie, attributes, tuple(keys))
        print(f"sticky documents: {json.dumps(list((docs or {}).values()), sort_keys=True)}")
        print(f"sticky cookie: {cookie if cookie is not None else '(unchanged)'}")
    return 0


def register(subparsers: Any) -> None:
    flags = subparsers.add_parser("flags", help="feature flags as the edge evaluates them")
    commands = flags.add_subparsers(dest="flags_command", required=True)
    evaluate = commands.add_parser("eval", help="evaluate the configured flags for given attributes")
    evaluate.add_argument(
        "--attr", action="append", type=parse_attribute, metavar="NAME=VALUE", help="attribute (JSON or text)"
    )
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--config", help=f"edge config.json (default ${CONFIG_PATH_ENV} or the bundled one)")
    source.add_argument("--payload", help="a GrowthBook payload JSON file instead of an edge config")
    evaluate.add_argument("--feature", action="append", help="only this feature (repeatable)")
    evaluate.add_argument("--json", action="store_true", help="full GrowthBook results as JSON")
    evaluate.add_argument(
        "--sticky-cookie",
        metavar="VALUE",
        help="evaluate with sticky bucketing from this sticky-bucket cookie value ('' for none) and print the new one",
    )
    evaluate.set_defaults(handler=run_eval)
