"""pytest plugin for refactoring the code generator: record every source the
CPU backend generates, to compare two versions of the generator.

    GEN_DUMP=/tmp/before PYTHONPATH=scripts python -m pytest -p generated_sources tests/...
    # change the generator, then the same with GEN_DUMP=/tmp/after
    python scripts/generated_sources.py /tmp/before /tmp/after

Each source is written as ``<sha256>.cc`` and listed in ``index.txt`` with its
model name, in generation order.  The comparison reports sources that differ,
and whether they differ only in indentation.
"""
import hashlib
import os
import sys


def _install():
    from ml_genn.genn.backends import cpu

    original = cpu.CPUBackend.generate

    def generate(self):
        src = original(self)
        out = os.environ["GEN_DUMP"]
        os.makedirs(out, exist_ok=True)
        digest = hashlib.sha256(src.encode()).hexdigest()
        with open(os.path.join(out, "index.txt"), "a") as f:
            f.write(f"{digest} {self.model.model_name}\n")
        with open(os.path.join(out, digest + ".cc"), "w") as f:
            f.write(src)
        return src

    cpu.CPUBackend.generate = generate


def _digests(folder, strip):
    out = set()
    for name in os.listdir(folder):
        if name.endswith(".cc"):
            with open(os.path.join(folder, name)) as f:
                text = "".join(line.lstrip() for line in f) if strip else f.read()
            out.add(hashlib.sha256(text.encode()).hexdigest())
    return out


if __name__ == "__main__":
    before, after = sys.argv[1:3]
    exact = _digests(before, False) ^ _digests(after, False)
    loose = _digests(before, True) ^ _digests(after, True)
    print(f"sources differing: {len(exact)}; differing beyond indentation: {len(loose)}")
    sys.exit(1 if loose else 0)
elif "GEN_DUMP" in os.environ:
    _install()
