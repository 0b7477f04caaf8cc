"""espnet-ser: speech emotion recognition (classes + valence/arousal/dominance) on ESPnet.

Exact pins of the core stack are in requirements/constraints.txt; ./setup.sh builds the environment.
"""

from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent
reqs = [
    line.strip()
    for line in (here / "requirements" / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.startswith(("#", "-"))
]
pins = {
    line.split("==")[0]: line.strip()
    for line in (here / "requirements" / "constraints.txt").read_text().splitlines()
    if "==" in line and not line.startswith("#")
}

setup(
    name="espnet_ser",
    version="0.1.0",
    description="Speech emotion recognition recipes for ESPnet: discrete and dimensional emotions, jointly",
    packages=find_packages(include=["espnet_ser", "espnet_ser.*"]),
    python_requires=">=3.10",
    install_requires=[pins.get(r, r) for r in reqs if r != "pytest"],
    extras_require={"test": ["pytest"]},
)
