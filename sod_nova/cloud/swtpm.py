"""A software TPM 2.0 per simulated host: swtpm on a Unix socket.

For the tests, the benchmarks and the embedded cloud: Debian's ``swtpm``
runs one TPM per host with its state in a directory (so a restart keeps the
endorsement seed, as a server's TPM keeps it across reboots). The process
dies with its parent (PR_SET_PDEATHSIG), so a killed test run leaves none
behind. Ready when TPM2_GetRandom answers on the socket.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile

from sod_nova import polling

#: TPM2_GetRandom(8): the readiness probe.
_GET_RANDOM = bytes.fromhex('80010000000c0000017b0008')
#: Seconds swtpm gets to answer the probe. It answers within milliseconds;
#: this only bounds a start that will never succeed.
START_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


def available():
    return shutil.which('swtpm') is not None


def _die_with_parent():
    ctypes.CDLL('libc.so.6', use_errno=True).prctl(_PR_SET_PDEATHSIG,
                                                   signal.SIGTERM)


class SwTpm:
    """One swtpm process; ``tcti`` is what the ``tpm`` backend opens."""

    def __init__(self, state_dir=None):
        self._own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix='sod-swtpm-')
        self.socket = os.path.join(self.state_dir, 'sock')
        self.proc = None

    @property
    def tcti(self):
        return 'swtpm:path=%s' % self.socket

    def start(self):
        """Start swtpm (the same state, hence the same EK, as before)."""
        if not available():
            raise RuntimeError('swtpm is not installed (Debian: apt-get '
                               'install swtpm swtpm-tools; the test suite '
                               'does this with tools/ensure-debs)')
        for path in (self.socket, self.socket + '.ctrl'):
            if os.path.exists(path):
                os.unlink(path)
        self.proc = subprocess.Popen(
            ['swtpm', 'socket', '--tpm2',
             '--server', 'type=unixio,path=%s' % self.socket,
             '--ctrl', 'type=unixio,path=%s.ctrl' % self.socket,
             '--tpmstate', 'dir=%s' % self.state_dir,
             '--flags', 'not-need-init,startup-clear'],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent)

        def state():  # None while starting: worth waiting for
            if self._answers():
                return 'answering'
            return 'exited' if self.proc.poll() is not None else None

        if polling.until(state, START_TIMEOUT, 0.005) != 'answering':
            err = self._kill()
            raise RuntimeError('swtpm did not start: %s' % err)
        return self

    def _answers(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1.0)
                s.connect(self.socket)
                s.sendall(_GET_RANDOM)
                return s.recv(10)[:2] == b'\x80\x01'
        except OSError:
            return False

    def _kill(self):
        err = b''
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            err = self.proc.stderr.read() or b''
            self.proc.stderr.close()
            self.proc = None
        return err.decode(errors='replace').strip() or 'no output'

    def restart(self):
        """Stop and start again: a host reboot, as far as its TPM knows."""
        self._kill()
        return self.start()

    def stop(self):
        self._kill()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
