"""From a labelled collection to a model in a bundle: features, training, evaluation, model card.

    record.py     what every run shares: its options (:class:`RunOptions`) and the record of
                  the run the bundle keeps (command, seed, settings, data, wall time, hardware)
    spectral.py   :func:`train_prototypes_into_bundle`, the spectral prototype model
    latent.py     :func:`train_latent_into_bundle` (:class:`LatentOptions`), the latent prototype model

The networks themselves are trained by their kinds' packages (``prototypes/train.py``,
``latent/train.py``); a run interrupted there resumes from its checkpoint
(:mod:`auralens.models.checkpoints`) with the same call.
"""
