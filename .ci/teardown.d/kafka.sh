# Stops the broker .ci/setup.d/30-kafka.sh started (its log goes with $CI_WORK).
if [ -n "${TEST_KAFKA_CONTROL:-}" ] && [ -x "$TEST_KAFKA_CONTROL" ]; then
  "$TEST_KAFKA_CONTROL" stop || true
fi
