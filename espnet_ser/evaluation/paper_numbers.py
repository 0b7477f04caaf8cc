"""Every number printed in Tables 1-3 of arXiv 2210.16642 (60 values), as printed.

Keyed like our tables: ``PAPER["table1"|"table3"][variant][metric]`` and
``PAPER["table2"][row ID]["<corpus>/<metric>"]``. A cell the paper prints as ``-`` is absent. The
paper's CCC column is recorded as printed: it is not always the mean of its V/A/D columns (Table 1,
Hierarchical C-D: (0.651 + 0.694 + 0.599) / 3 = 0.648 as printed, but Table 1, Baseline C:
(0.548 + 0.606 + 0.566) / 3 = 0.573 where 0.580 is printed).
The paper's IEMOCAP "Acc" is unweighted accuracy (our ``ua``), its MSP-Podcast "F1" is our ``f1_macro``.
"""

PAPER = {
    "table1": {  # IEMOCAP, 5-fold leave-one-session-out CV
        "baseline_c": {"ccc_mean": 0.580, "ccc_valence": 0.548, "ccc_arousal": 0.606, "ccc_dominance": 0.566},
        "baseline_d": {"ua": 0.737},
        "multitask": {"ccc_mean": 0.603, "ccc_valence": 0.571, "ccc_arousal": 0.669, "ccc_dominance": 0.567, "ua": 0.723},
        "hierarchical_dc": {"ccc_mean": 0.667, "ccc_valence": 0.660, "ccc_arousal": 0.717, "ccc_dominance": 0.625, "ua": 0.744},
        "hierarchical_cd": {"ccc_mean": 0.648, "ccc_valence": 0.651, "ccc_arousal": 0.694, "ccc_dominance": 0.599, "ua": 0.749},
    },
    "table3": {  # MSP-Podcast Test1
        "baseline_c": {"ccc_mean": 0.593, "ccc_valence": 0.597, "ccc_arousal": 0.646, "ccc_dominance": 0.538},
        "baseline_d": {"f1_macro": 0.368},
        "multitask": {"ccc_mean": 0.587, "ccc_valence": 0.591, "ccc_arousal": 0.637, "ccc_dominance": 0.533, "f1_macro": 0.393},
        "hierarchical_dc": {"ccc_mean": 0.617, "ccc_valence": 0.588, "ccc_arousal": 0.675, "ccc_dominance": 0.584, "f1_macro": 0.404},
        "hierarchical_cd": {"ccc_mean": 0.605, "ccc_valence": 0.554, "ccc_arousal": 0.661, "ccc_dominance": 0.569, "f1_macro": 0.411},
    },
    "table2": {  # mismatched training; IEMOCAP Session 5 and MSP-Podcast Test1 (rows: espnet_ser.spec.TABLE2_ROWS)
        1: {"iemocap/ccc_mean": 0.125, "msp/ccc_mean": 0.524},
        2: {"iemocap/ccc_mean": 0.327, "msp/ccc_mean": 0.140},
        3: {"iemocap/ua": 0.459, "msp/f1_macro": 0.325},
        4: {"iemocap/ua": 0.701, "msp/f1_macro": 0.266},
        5: {"iemocap/ccc_mean": 0.586, "msp/ccc_mean": 0.524},
        6: {"iemocap/ua": 0.695, "msp/f1_macro": 0.364},
        7: {"iemocap/ccc_mean": 0.625, "iemocap/ua": 0.470, "msp/ccc_mean": 0.189, "msp/f1_macro": 0.302},
        8: {"iemocap/ccc_mean": 0.218, "iemocap/ua": 0.705, "msp/ccc_mean": 0.497, "msp/f1_macro": 0.283},
    },
}
