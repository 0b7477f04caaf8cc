"""Numbers reported in arXiv 2210.16642 that this project knows, keyed like our tables.

Only the headline figures quoted in the project brief are recorded; every other paper cell reads
``n.r.`` (not recorded here) rather than a guessed value. Add the rest from the paper's tables as
``PAPER[table][variant][metric]`` (Table 2: ``"variant/d_src/c_src"`` -> ``"corpus/metric"``).
"""

PAPER = {
    "table1": {  # IEMOCAP, 5-fold leave-one-session-out
        "hierarchical_dc": {"ccc_mean": 0.667},
        "hierarchical_cd": {"ua": 0.749},
    },
    "table3": {  # MSP-Podcast Test1
        "hierarchical_dc": {"ccc_mean": 0.617},
        "hierarchical_cd": {"f1_macro": 0.411},
    },
    "table2": {},
}
