"""The classical system: scikit-learn members on a frozen frontend's cached features (openSMILE functionals),
fused; fitted once per fold, saved with skops (:mod:`espnet_ser.classical.system`)."""
