"""Imported once by the training jobs' fork server, so that every job forked from it starts with
Keras and TensorFlow loaded (5-10 s of each training's wall time here) while the web process
itself never imports them."""

from .network import import_keras

import_keras()
