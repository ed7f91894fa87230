#!/bin/sh
# Starts Fluent Bit as aws-for-fluent-bit's own entrypoint does (its Go
# plugins loaded with -e, the configuration FireLens generates at
# /fluent-bit/etc/fluent-bit.conf), with falcocw loaded the same way.
echo -n "AWS for Fluent Bit Container Image Version "
cat /AWS_FOR_FLUENT_BIT_VERSION 2>/dev/null || echo unknown
echo "with falcocw"
exec /fluent-bit/bin/fluent-bit \
  -e /fluent-bit/firehose.so \
  -e /fluent-bit/cloudwatch.so \
  -e /fluent-bit/kinesis.so \
  -e /fluent-bit/falcocw.so \
  -c "${FLUENT_BIT_CONFIG_FILE:-/fluent-bit/etc/fluent-bit.conf}"
