"""``verify kernel``: the infinite-width NNGP or NTK matrix of given inputs under the DERIVED recursions of P3's networks
(``numeric.kernel_recursions``).

    verify kernel --arch ffnn --activation tanh --depth 10 --sigma-w 1.3 --sigma-b 0.2 --kind ntk --input-cos 0.3
    verify kernel --arch cnn --activation relu --depth 3 --sigma-w 1.4142 --sigma-b 0 --inputs X.npy --channels 2 --json

Inputs: ``--inputs FILE.npy`` (an N x d numeric array, one input per row; for convolutional archs each row is n_0 = --channels
channels of M = d / n_0 positions, channel-major) or ``--input-cos C`` (two inputs with ||x||^2 = d and cosine C; for conv
archs both are constant over --positions positions).  Output: the kernel matrix, one row per line (for conv archs the
(N M) x (N M) matrix with row index input * M + position), or with --json one object {"kernel": [[...]], "arch": ...}.
Bad input -> one-line error, exit code 2 (``verify.errors.UserError``).

Registration in ``verify/cli.py`` (two lines, by the lead): ``kernel_cmd.add_parser(sub)`` in ``build_parser`` and
``"kernel": kernel_cmd.cmd_kernel`` in ``COMMANDS``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from verify.argtypes import integer, number
from verify.errors import UserError

ARCH_CHOICES = ("ffnn", "cnn", "resnet", "scaled-resnet", "conv-resnet", "scaled-conv-resnet")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``kernel`` on the CLI's subparsers object (its parser class turns errors into UserError)."""
    s = subparsers.add_parser(
        "kernel", help="infinite-width NNGP / NTK matrix of inputs (P3 derived recursions)",
        description="Print the infinite-width NNGP or NTK matrix of the given inputs for P3's networks (NTK "
                    "parameterisation, eq. (10)-(13)) under the recursions derived from the finite networks.")
    s.add_argument("--arch", required=True, help=f"architecture: {', '.join(ARCH_CHOICES)}")
    s.add_argument("--activation", required=True, help="relu, leaky_relu:<a>, elu, tanh, erf, softplus, sigmoid, swish, ...")
    s.add_argument("--depth", required=True, type=integer("depth", 1), help="number of layers L >= 1")
    s.add_argument("--sigma-w", required=True, type=number("sigma-w", minimum=0), help="weight scale sigma_w >= 0")
    s.add_argument("--sigma-b", required=True, type=number("sigma-b", minimum=0), help="bias scale sigma_b >= 0")
    s.add_argument("--kind", choices=("nngp", "ntk"), default="ntk", help="kernel (default ntk)")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--inputs", metavar="FILE.npy", help="N x d array of inputs (rows)")
    src.add_argument("--input-cos", type=number("input-cos", minimum=-1, maximum=1), metavar="C", help="two inputs with ||x||^2 = d and cosine C")
    s.add_argument("--channels", type=integer("channels", 1), default=1, help="conv archs: input channels n_0 (default 1)")
    s.add_argument("--positions", type=integer("positions", 1), default=4, help="conv archs with --input-cos: M (default 4)")
    s.add_argument("--kernel-size", type=integer("kernel-size", 0), default=1, help="conv archs: half filter width k (default 1)")
    s.add_argument("--json", action="store_true", help="print a JSON object instead of the matrix")
    return s


def _load_inputs(path: str) -> np.ndarray:
    try:
        X = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UserError(f"input file not found: {path}") from None
    except (OSError, ValueError, EOFError):
        raise UserError(f"cannot read inputs from {path}: not a .npy file holding a numeric array") from None
    if not isinstance(X, np.ndarray):
        raise UserError(f"{path} does not hold a single array")
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise UserError(f"{path} must hold an N x d array, got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) and not np.issubdtype(X.dtype, np.complexfloating)):
        raise UserError(f"{path} must hold a real numeric array, got dtype {X.dtype}")
    X = X.astype(float)
    if not np.all(np.isfinite(X)):
        raise UserError(f"{path} contains non-finite values")
    return X


def cmd_kernel(a) -> int:
    from numeric.gaussian_maps import get_activation
    from numeric.kernel_recursions import CONV_ARCHS, derived_recursion, unit_inputs

    if a.arch not in ARCH_CHOICES:
        raise UserError(f"unknown architecture {a.arch!r}; known: {', '.join(ARCH_CHOICES)}")
    try:
        act = get_activation(a.activation)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    for name in ("sigma_w", "sigma_b"):
        v = getattr(a, name)
        if not (isinstance(v, float) and math.isfinite(v) and v >= 0):
            raise UserError(f"{name.replace('_', '-')} must be a finite number >= 0, got {v}")
    if not isinstance(a.depth, int) or a.depth < 1:
        raise UserError(f"depth must be >= 1, got {a.depth}")
    conv = a.arch in CONV_ARCHS
    if a.inputs is not None:
        X = _load_inputs(a.inputs)
        if conv:
            N, d = X.shape
            if d % a.channels:
                raise UserError(f"input dimension {d} is not a multiple of --channels {a.channels}")
            X = X.reshape(N, a.channels, d // a.channels)
    else:
        X = unit_inputs(a.input_cos)
        if conv:
            X = np.repeat(X[:, :, None], a.positions, axis=2)
    try:
        with np.errstate(all="raise"):
            res = derived_recursion(a.arch, act, X, a.depth, a.sigma_w, a.sigma_b, k=a.kernel_size)
    except FloatingPointError:
        raise UserError("the kernel overflows at this depth (variance explodes); reduce --depth or --sigma-w") from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    Kmat = res.kernel(a.kind)
    if not np.all(np.isfinite(Kmat)):
        raise UserError("the kernel is not finite at this depth (variance explodes); reduce --depth or --sigma-w")
    if a.json:
        doc = dict(kernel=Kmat.tolist(), arch=a.arch, activation=act.name, depth=a.depth, sigma_w=a.sigma_w,
                   sigma_b=a.sigma_b, kind=a.kind, n_inputs=int(X.shape[0]), positions=res.positions,
                   kernel_size=a.kernel_size if conv else None, recursion="derived")
        print(json.dumps(doc))
    else:
        for row in Kmat:
            print(" ".join(f"{v:.17g}" for v in row))
    return 0


def main(argv=None) -> int:
    """Stand-alone entry (tests): the same parser and error handling as ``verify``'s CLI."""
    from verify.cli import _Parser

    p = _Parser(prog="verify")
    sub = p.add_subparsers(dest="cmd", parser_class=_Parser)
    add_parser(sub)
    try:
        a = p.parse_args(argv)
        return cmd_kernel(a)
    except UserError as exc:
        print(f"verify: error: {exc}", file=sys.stderr)
        return 2
