"""`python -m bench.mutation`: what `otacm verify` still cannot see.

A mutation run: cosmic-ray's operators (comparison, boolean, arithmetic,
number, break/continue, exception, decorator, zero-iteration loop) applied one
at a time to the mock's rules, representation and webhook code, each mutant
served by the embedded mock of one `otacm verify --quiet` run. A mutant the
run passes ("survived") is a behaviour change the suite does not notice,
unless it is an equivalent mutant (no observable change). The score is
killed/(killed + survived); mutants that hang are killed by the per-mutant
timeout and counted apart. Mutants run in a scratch copy of the tree, never
in the working tree. Not part of CI: one mutant costs one verify (~40 s).

Needs the optional extra: `pip install -e '.[mutation]'` (cosmic-ray).
"""
