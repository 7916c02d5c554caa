"""Component ids, one constant each, shared by the layout, the callbacks and the tests."""

from __future__ import annotations

URL = "url"
NOTICE = "notice"
DATA_BADGE = "data-badge"
TITLE = "title"  # names the data set's place
FOOTER = "footer"  # credits the data set's source

# Session state kept in the browser: only names, never data (see state.py).
VIEW = "view"  # data set, stations, model and compared models; written by one callback
TRAINED = "trained"  # event: the key of the model a training just stored
UPLOADED = "uploaded"  # event: {"dataset": id} of an upload just adopted (None: built-in data)
STORE_VERSION = "store-version"  # event: bumped after a delete, so the model lists reload

# Stations
STATIONS = "stations"
SELECT_ALL = "select-all"
CLEAR = "clear"
MAP = "station-map"
MAP_UNPLACED = "map-unplaced"
MAP_FIGURE = "station-map-figure"  # the server's map; the browser adds the zoom to it

# Chart
CHART = "forecast-chart"
CHART_NOTE = "chart-note"
BASELINES = "baselines"
CHART_MODE = "chart-mode"
FORECASTS = "forecasts"  # which of the served forecast and the network's own are drawn
SHOWN_MODEL = "shown-model"  # names the model on the chart
DOWNLOAD_BUTTON = "download-button"
DOWNLOAD = "download"

# Scores
SCORE_CARDS = "score-cards"
SCORE_NOTE = "score-note"
STATION_TABLE = "station-table"
STEP_CHART = "step-chart"

# Retrain (the form's fields are defined in form.py)
FORM_HINT = "form-hint"
TRAIN = "train"
CANCEL = "cancel"
PROGRESS = "progress"
PROGRESS_BOX = "progress-box"
LOSS_CHART = "loss-chart"
TRAIN_MESSAGE = "train-message"
JOB_WATCH = "job-watch"  # an interval: follows a training this page did not start (a reload)
TRAINING = "training"  # the panel's state: idle, running or following, and what it has seen
JOB_PROGRESS = "job-progress"  # the page's training job's last report (Dash's progress)
JOB_RUNNING = "job-running"  # whether that job runs (Dash's running)

# Compare
COMPARE = "compare"  # keys of the models on the comparison chart (2 to 4)
COMPARE_CHART = "compare-chart"
COMPARE_TABLE = "compare-table"
COMPARE_NOTE = "compare-note"

# Inside the GRU
GATES_STATION = "gates-station"  # the one station replayed, of the selected ones
GATES_KEY = "gates-key"  # the article's words for each part of the cell
GATES_CHART = "gates-chart"
GATES_NOTE = "gates-note"
# Backtest
BACKTEST_RUN = "backtest-run"
BACKTEST_CANCEL = "backtest-cancel"
BACKTEST_PROGRESS = "backtest-progress"
BACKTEST_PROGRESS_BOX = "backtest-progress-box"
BACKTEST_STATUS = "backtest-status"
BACKTEST_MESSAGE = "backtest-message"
BACKTEST_CHART = "backtest-chart"
BACKTEST_TABLES = "backtest-tables"
BACKTEST_SUMMARY = "backtest-summary"  # mean, spread and wins per method
BACKTEST_STEPS = "backtest-steps"  # mean MAE per step ahead per method
BACKTEST_DONE = "backtest-done"  # the backtest job's answer: the model's key and how it ended

# Models
MODEL_LIST = "model-list"
MODEL_MESSAGE = "model-message"
VIEW_MODEL = "view-model"  # pattern-matching type: {"type": VIEW_MODEL, "key": key}
SHOW_DEFAULT = "show-default"  # the same, offered when the model shown was deleted
DELETE_MODEL = "delete-model"
DELETE_DIALOG = "delete-dialog"  # asks before deleting a model not trained in this session
DELETE_QUESTION = "delete-question"
DELETE_YES = "delete-yes"
DELETE_NO = "delete-no"
SHOW_HIDDEN = "show-hidden"  # lists again the models this session hid
DELETE_PENDING = "delete-pending"  # the key the dialog asks about
TRAINED_HERE = "trained-here"  # keys trained in this browser session: deleted without asking

# Your data
UPLOAD = "upload"
UPLOAD_MESSAGE = "upload-message"
UPLOAD_READY = "upload-ready"  # set in the browser once a chosen file is within the size limit
RESET_DATA = "reset-data"
SHARING = "sharing"  # the share controls, shown to the uploader of the data set in view
SHARE = "share"
STOP_SHARING = "stop-sharing"
SHARE_LINK = "share-link"
SHARE_NOTE = "share-note"
