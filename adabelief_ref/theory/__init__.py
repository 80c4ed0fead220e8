"""The theorems' right-hand sides evaluated a posteriori from a :class:`~adabelief_ref.Trace`,
and audits of their assumptions: ``audit`` (shared), ``convex`` (Theorem 2.1, Corollary 2.1.1),
``nonconvex`` (Theorem 2.2, Corollary 2.2.1); ``backends`` chooses who steps the runs (the numpy
reference or the batched torch engine)."""
