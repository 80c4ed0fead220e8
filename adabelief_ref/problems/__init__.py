"""Synthetic problems with exact gradients: online convex (``online_convex``) and stochastic
non-convex (``stochastic``). Each exposes ``grad(t, theta)`` for :func:`adabelief_ref.run`."""
