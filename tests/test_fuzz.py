"""The API against its own OpenAPI schema, with generated requests (schemathesis), and the audio
loader against random bytes and random valid audio (hypothesis): no 5xx, no crash, responses
that match the schema, errors that are the documented ones."""
import atexit
import io
import shutil
import tempfile

import numpy as np
import pytest
import schemathesis
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from auralens.models.audio import AudioError, load_audio
from auralens.server.app import create_app

DATA = tempfile.mkdtemp(prefix="auralens-fuzz-")  # the schema is read at collection time, so is the app made
atexit.register(shutil.rmtree, DATA, ignore_errors=True)
# schemathesis calls the app as host "testserver"
app = create_app(device="cpu", data_dir=DATA, allowed_hosts=("testserver",))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# an address over the server's length limit is refused (414) before any parameter is read: that is
# a rejection of invalid data too
rejection = schema.config.checks.negative_data_rejection
rejection.expected_statuses = [*rejection.expected_statuses, "414"]


@pytest.fixture(scope="module", autouse=True)
def stop_the_app_afterwards():
    yield
    app.state.auralens.close()  # drops any job the generated requests queued


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_schema(case):
    # an upload can fit the schema (any bytes) and still not be audio: its 4xx is the right answer
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


@given(st.binary(max_size=4096))
@settings(max_examples=200, deadline=None)
def test_random_bytes_are_refused_with_an_audio_error_never_a_crash(data):
    with pytest.raises(AudioError):
        load_audio(data)


@given(seconds=st.floats(0.05, 1.5), sample_rate=st.sampled_from([8000, 16000, 22050, 44100, 48000]),
       channels=st.integers(1, 4), level=st.floats(0.01, 1.0), fmt=st.sampled_from(["WAV", "FLAC", "OGG"]),
       seed=st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_random_valid_audio_decodes_to_mono_at_the_asked_rate_with_its_length(seconds, sample_rate, channels,
                                                                              level, fmt, seed):
    rng = np.random.default_rng(seed)
    n = max(1, int(seconds * sample_rate))
    samples = (level * rng.uniform(-1, 1, (n, channels))).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, samples, sample_rate, format=fmt)
    audio = load_audio(buf.getvalue(), sample_rate=22050)
    assert audio.samples.ndim == 1 and audio.sample_rate == 22050 and audio.source_channels == channels
    assert np.isfinite(audio.samples).all()
    assert abs(len(audio.samples) / 22050 - n / sample_rate) < 0.06  # Ogg pads to its block size
