"""The class list of a model: from a file (one name a line), a list, or the paper's default five.

Kept free of ESPnet imports so that light tools (packing, scoring) read it the same way training does.
"""

from typing import List, Sequence, Union

from espnet_ser.errors import InputError
from espnet_ser.labels import name_problem
from espnet_ser import DEFAULT_CLASSES


def load_class_list(class_list: Union[None, str, Sequence[str]]) -> List[str]:
    """The class list from a file (one name a line) or a list; default: the paper's five classes."""
    if class_list is None:
        return list(DEFAULT_CLASSES)
    if isinstance(class_list, str):
        with open(class_list, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
    else:
        names = [str(c) for c in class_list]
    if len(set(names)) != len(names) or not names:
        raise InputError(f"class list must be non-empty and without repeats: {names}")
    where = class_list if isinstance(class_list, str) else "class_list"
    for n in names:  # a class name is a field of emotion/probs lines and a column of RESULTS.md
        problem = name_problem(n)
        if problem:
            raise InputError(f"{where}: class {n!r} {problem}; class names are fields of the label and prediction "
                             "files (use letters, digits, '_', '-', '.')")
    return names
