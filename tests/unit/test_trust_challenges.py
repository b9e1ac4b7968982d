"""Signed challenges: what an agent takes, and what it drops and why.

The agent is the production one, not started: its ``challenge`` is what the
RPC endpoint calls for each message; the bus and the monitor are in the
functional tests (test_trust_processes, test_simulate).
"""

import os

from cryptography.hazmat.primitives import serialization
import pytest

from sod_nova import keyfile
from sod_nova.trust import backends
from sod_nova.trust import challenges
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust.agent import service

GROUP_KEY = nonces.generate_key()


@pytest.fixture
def conf(trust_options):
    return trust_options


@pytest.fixture
def agent(conf):
    agent = service.TrustAgent(
        conf, 'hw1', backends.load('hyperwall', 'HyperWall'),
        keys.generate_private_key(),
        challenge_keys=[challenges.signing_key(GROUP_KEY).public_key()])
    agent.boot_id = 'boot'
    return agent


def issue(at, host='hw1', key=GROUP_KEY):
    return nonces.issue(key, host, at)


def genuine(agent, nonce, immediate=False, ack=None, credential=None):
    agent.challenge(nonce, immediate, ack, credential, challenges.sign(
        challenges.signing_key(GROUP_KEY), agent.host, nonce, immediate, ack,
        credential))


def test_the_groups_challenge_is_taken(agent):
    nonce = issue(1000.0)
    genuine(agent, nonce, ack={'boot_id': 'boot', 'sequence': 3})
    assert agent._nonce == nonce and agent._acked == 3
    assert not agent.dropped_challenges


@pytest.mark.parametrize('forge, why', [
    # someone on the bus without the group's key
    (lambda n: dict(signature=None), challenges.MALFORMED),
    (lambda n: dict(signature='not base64!'), challenges.MALFORMED),
    (lambda n: dict(signature=challenges.sign(
        keys.generate_private_key(), 'hw1', n, True)), challenges.SIGNATURE),
    # the group's signature, moved to other fields
    (lambda n: dict(signature=challenges.sign(
        challenges.signing_key(GROUP_KEY), 'hw2', n, True)), challenges.SIGNATURE),
    (lambda n: dict(immediate=False, signature=challenges.sign(
        challenges.signing_key(GROUP_KEY), 'hw1', n, True)), challenges.SIGNATURE),
    (lambda n: dict(ack={'boot_id': 'boot', 'sequence': 99}, signature=challenges.sign(
        challenges.signing_key(GROUP_KEY), 'hw1', n, True)), challenges.SIGNATURE),
    # not what a monitor sends at all
    (lambda n: dict(nonce='zz' * 32), challenges.MALFORMED),
    (lambda n: dict(nonce=7), challenges.MALFORMED),
    (lambda n: dict(immediate='yes'), challenges.MALFORMED),
    (lambda n: dict(ack={'boot_id': 'boot', 'sequence': 2 ** 70}), challenges.MALFORMED),
    (lambda n: dict(ack={'boot_id': 'boot', 'sequence': True}), challenges.MALFORMED),
    (lambda n: dict(ack=['boot', 1]), challenges.MALFORMED),
    (lambda n: dict(credential={'blob': 'x' * 10 ** 6, 'secret': 'y'}), challenges.MALFORMED),
    (lambda n: dict(signature='A' * 10 ** 6), challenges.MALFORMED),
])
def test_a_challenge_the_group_did_not_sign_changes_nothing(agent, forge, why):
    held = issue(1000.0)
    genuine(agent, held, ack={'boot_id': 'boot', 'sequence': 1})
    bogus = issue(2000.0, key=nonces.generate_key())
    fields = dict(nonce=bogus, immediate=True, ack=None, credential=None)
    fields.update(forge(bogus))
    agent.challenge(**fields)
    assert agent._nonce == held and agent._acked == 1 and not agent._want
    assert agent.dropped_challenges == {why: 1}


def test_a_replayed_genuine_challenge_is_dropped(agent):
    first, second = issue(1000.0), issue(1001.0)
    genuine(agent, first)
    genuine(agent, second)
    genuine(agent, first)                    # issued before the nonce held
    genuine(agent, second)                   # the nonce held
    assert agent._nonce == second
    assert agent.dropped_challenges == {challenges.OLDER: 1, challenges.USED: 1}
    agent._used.append(second)               # quoted in a report
    agent._nonce = None
    genuine(agent, second)
    assert agent._nonce is None
    assert agent.dropped_challenges == {challenges.OLDER: 1, challenges.USED: 2}


def test_a_monitor_clock_ahead_holds_the_others_back_one_report_only(agent):
    """A challenge issued an hour ahead (a monitor whose clock jumped) is
    held until the agent's next report; the group's next challenge, issued
    earlier by that clock, is then taken again: no lock-out."""
    ahead = issue(1000.0 + 3600)
    genuine(agent, ahead)
    genuine(agent, issue(1001.0))            # held back while ``ahead`` is held
    assert agent._nonce == ahead
    agent._used.append(ahead)                # the next report quotes it
    agent._nonce = None
    now = issue(1002.0)
    genuine(agent, now)
    assert agent._nonce == now
    assert agent.dropped_challenges == {challenges.OLDER: 1}


def test_drops_are_logged_at_most_once_a_report_interval(agent, caplog):
    caplog.set_level('WARNING')
    for _ in range(50):
        agent.challenge(issue(1.0), True, signature=None)
    assert agent.dropped_challenges == {challenges.MALFORMED: 50}
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ['hw1: challenge dropped (malformed): not a challenge as the '
                     'monitor sends them; 1 dropped since the agent started']


def test_an_agent_without_the_groups_key_does_not_start(conf):
    agent = service.TrustAgent(conf, 'hw1', backends.load('hyperwall', 'HyperWall'),
                               keys.generate_private_key())
    try:
        with pytest.raises(challenges.ChallengeKeyError,
                           match=r'challenge_public_key_file is not set'):
            agent.start()
    finally:
        agent.stop()        # had it started, its threads would outlive the run


def test_the_key_file_holds_base64_lines_or_pem_blocks(tmp_path):
    one = challenges.signing_key(GROUP_KEY).public_key()
    other = keys.generate_private_key().public_key()
    pem = other.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    path = tmp_path / 'challenge.pub'
    path.write_text('# the group key, rotating\n%s\n\n%s' % (
        challenges.public_key_text(GROUP_KEY), pem))
    loaded = challenges.load_public_keys(str(path))
    assert {keys.public_key_text(k) for k in loaded} == {
        keys.public_key_text(one), keys.public_key_text(other)}


@pytest.mark.parametrize('content, message', [
    (None, 'cannot be read'),
    (None, 'is not a regular file'),
    (b'', 'holds no public key (print it with "sod-nova trust challenge-key")'),
    (b'# only a comment\n', 'holds no public key'),
    (b'\xff\xfe binary', 'is not text'),
    (b'A' * (keyfile.MAX_BYTES + 1), 'is larger than 16384 bytes'),
    (b'bm90IGEga2V5\n', 'an Ed25519 public key has 32 bytes, not 9'),
])
def test_an_unusable_key_file_is_one_line_naming_it(tmp_path, content, message):
    path = tmp_path / 'challenge.pub'
    if content is not None:
        path.write_bytes(content)
    elif message == 'is not a regular file':
        os.mkfifo(path)                 # would block a plain open()
    with pytest.raises(challenges.ChallengeKeyError) as exc:
        challenges.load_public_keys(str(path))
    text = str(exc.value)
    assert text.startswith('[sod_trust] challenge_public_key_file %s' % path)
    assert message in text and '\n' not in text


def test_the_key_is_the_groups_and_only_the_groups():
    assert (challenges.public_key_text(GROUP_KEY)
            == challenges.public_key_text(bytes(GROUP_KEY)))
    assert (challenges.public_key_text(GROUP_KEY)
            != challenges.public_key_text(nonces.generate_key()))


def test_a_batch_of_challenges_is_signed_once_and_each_verifies_alone():
    key = challenges.signing_key(GROUP_KEY)
    public = [key.public_key()]
    batch = [('hw%d' % i, issue(1000.0 + i, 'hw%d' % i), False,
              {'boot_id': 'boot', 'sequence': i + 1}) for i in range(5)]
    signatures = challenges.sign_many(key, batch)
    assert len({s.split('.')[0] for s in signatures}) == 1      # one Ed25519
    for (host, nonce, immediate, ack), signature in zip(batch, signatures, strict=True):
        assert challenges.verify(public, host, nonce, immediate, ack, None,
                                 signature) is None
    host, nonce, immediate, ack = batch[2]
    root, index, path = signatures[2].split('.')
    raw = bytearray(challenges.base64.b64decode(path))
    raw[0] ^= 1
    tampered = challenges.base64.b64encode(bytes(raw)).decode()
    for signature, why in [
            (signatures[3], challenges.SIGNATURE),        # another's path
            ('%s.3.%s' % (root, path), challenges.SIGNATURE),
            ('%s.%s.%s' % (root, index, tampered), challenges.SIGNATURE),
            ('%s.%s.%s' % (root, index, path[:-4]), challenges.MALFORMED),
            ('%s.-2.%s' % (root, path), challenges.MALFORMED),
            ('%s.%s' % (root, path), challenges.MALFORMED)]:
        assert challenges.verify(public, host, nonce, immediate, ack, None,
                                 signature) == why, signature
    # The group's signature for another field of the same challenge.
    assert challenges.verify(public, host, nonce, True, ack, None,
                             signatures[2]) == challenges.SIGNATURE
    # Another group's key signs no batch of this one.
    assert challenges.verify([keys.generate_private_key().public_key()], host,
                             nonce, immediate, ack, None,
                             signatures[2]) == challenges.SIGNATURE
    # One challenge alone keeps the single form.
    assert challenges.sign_many(key, batch[:1]) == [challenges.sign(key, *batch[0])]


def test_the_agent_takes_a_batched_challenge(agent):
    key = challenges.signing_key(GROUP_KEY)
    nonce = issue(1000.0)
    ack = {'boot_id': 'boot', 'sequence': 3}
    signatures = challenges.sign_many(key, [
        ('hw0', issue(1000.0, 'hw0'), False, ack), ('hw1', nonce, False, ack)])
    agent.challenge(nonce, False, ack, None, signatures[0])     # hw0's
    assert agent._nonce is None and agent.dropped_challenges == {
        challenges.SIGNATURE: 1}
    agent.challenge(nonce, False, ack, None, signatures[1])
    assert agent._nonce == nonce and agent._acked == 3
