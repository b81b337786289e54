"""Seeing autodiff work: the tape as a table, the graph as a picture, forward mode step by step.

    ad.viz.tape(f, *args)               the recorded tape (reverse mode), one row per node
    ad.viz.to_dot(y), ad.viz.render     the computation graph as Graphviz DOT text, PNG or SVG
    ad.viz.forward_trace(f, xs, vs)     each primitive of a jvp with its primal and tangent
"""
from .dot import render, to_dot
from .tape import tape
from .trace import forward_trace

__all__ = ["tape", "to_dot", "render", "forward_trace"]
