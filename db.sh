# Where the licensed corpora live: the only place their paths are written. Every recipe's db.sh links
# here. Leave a path empty to run without that corpus (the root ./run.sh then runs the mini-corpus demo).
# Environment variables of the same name override these lines.
IEMOCAP=${IEMOCAP:-}          # the IEMOCAP release: the directory holding Session1 .. Session5
MSP_PODCAST=${MSP_PODCAST:-}  # the MSP-Podcast release: the directory holding Labels/ and Audios/
EMOVO=${EMOVO:-}              # EMOVO: a directory holding its .wav/.flac files (original names), any depth
EMODB=${EMODB:-}              # EmoDB: a directory holding its .wav/.flac files (original names), any depth
MANIFEST=${MANIFEST:-}        # your own corpus: a manifest CSV (utt_id,path,speaker[,emotion][,valence]...)
