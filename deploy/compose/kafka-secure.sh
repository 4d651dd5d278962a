#!/usr/bin/env bash
# Starts the apache/kafka image as a broker that requires TLS and SASL/SCRAM and enforces ACLs
# (compose.yaml, profile `network`). The state volume, shared with evnet's containers, holds the
# certificate `evnet certs` made (certs/) and the passwords (kafka/). The administrator's SCRAM
# credential is written when the storage is formatted: no client could create it later.
set -euo pipefail
STATE=/var/lib/evnet
SECRETS="$STATE/kafka"
CONFIG="$SECRETS/server.properties"
umask 077
mkdir -p "$SECRETS"
for name in evnet-admin controller; do
  [ -s "$SECRETS/$name.password" ] || head -c 32 /dev/urandom | base64 | tr -d '=+/\n' >"$SECRETS/$name.password"
done
admin="$(cat "$SECRETS/evnet-admin.password")"
controller="$(cat "$SECRETS/controller.password")"
printf '%s\n' "$(cat "$STATE/certs/server-key.pem")" "$(cat "$STATE/certs/server.pem")" >"$SECRETS/keystore.pem"
cat >"$CONFIG" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9094
controller.listener.names=CONTROLLER
listeners=SASL_SSL://:9093,CONTROLLER://localhost:9094
advertised.listeners=SASL_SSL://${KAFKA_ADVERTISED_HOST:-kafka-secure}:9093
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="evnet-admin" password="$admin";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="evnet-admin" password="$admin";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$controller" user_controller="$controller";
ssl.keystore.type=PEM
ssl.keystore.location=$SECRETS/keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$STATE/certs/ca.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:evnet-admin;User:controller
allow.everyone.if.no.acl.found=false
log.dirs=/tmp/kraft-combined-logs
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
CONF
cat >"$SECRETS/admin-client.properties" <<CONF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="evnet-admin" password="$admin";
ssl.truststore.type=PEM
ssl.truststore.location=$STATE/certs/ca.pem
CONF
if [ ! -f /tmp/kraft-combined-logs/meta.properties ]; then
  /opt/kafka/bin/kafka-storage.sh format --cluster-id="${CLUSTER_ID:?}" -c "$CONFIG" \
    --add-scram "SCRAM-SHA-512=[name=evnet-admin,password=$admin]"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$CONFIG"
