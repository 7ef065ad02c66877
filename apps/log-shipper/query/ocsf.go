package query

// OCSF views: the lake's CloudTrail and VPC Flow Logs tables as the Open
// Cybersecurity Schema Framework classes AWS Security Lake stores them in,
// so that tools written against Security Lake's OCSF tables can run on the
// lake: ocsf_api_activity (class 6003 API Activity, category 6) over
// cloudtrail and ocsf_network_activity (class 4001 Network Activity,
// category 4) over vpcflow. Nested OCSF objects are DuckDB structs; time is
// epoch milliseconds; type_uid = class_uid * 100 + activity_id. Attributes
// with no source column are left out rather than invented.

// ocsfVersion is the OCSF schema version the views follow.
const ocsfVersion = "1.1.0"

// activity_id of API Activity from the event: 2 Read for read-only calls,
// else by the verb that starts the event name (1 Create, 3 Update,
// 4 Delete), else 99 Other.
const ocsfAPIActivity = `
CREATE OR REPLACE VIEW ocsf_api_activity AS
SELECT
  6003 AS class_uid, 'API Activity' AS class_name, 6 AS category_uid, 'Application Activity' AS category_name,
  activity_id, 6003 * 100 + activity_id AS type_uid,
  CAST(epoch_ms("time") AS BIGINT) AS "time",
  1 AS severity_id,
  CASE WHEN error_code IS NULL THEN 1 ELSE 2 END AS status_id,
  CASE WHEN error_code IS NULL THEN 'Success' ELSE 'Failure' END AS status,
  error_code AS status_code, error_message AS status_detail,
  {'operation': event_name, 'service': {'name': event_source}, 'request': {'uid': request_id}} AS api,
  {'user': {'type': user_type, 'name': user_name, 'uid': user_arn, 'account': {'uid': user_account_id}, 'credential_uid': access_key_id}} AS actor,
  {'ip': source_ip_address} AS src_endpoint,
  {'user_agent': user_agent} AS http_request,
  {'provider': 'AWS', 'region': aws_region, 'account': {'uid': recipient_account_id}} AS cloud,
  {'uid': event_id, 'version': '` + ocsfVersion + `', 'product': {'name': 'CloudTrail', 'vendor_name': 'AWS', 'version': event_version}} AS metadata,
  account, in_region, dt, hour
FROM (
  SELECT *, CASE
    WHEN read_only THEN 2
    WHEN regexp_matches(event_name, '^(Create|Put|Run|Register|Import|Allocate)') THEN 1
    WHEN regexp_matches(event_name, '^(Update|Modify|Set|Attach|Detach|Add|Associate|Disassociate|Enable|Disable|Start|Stop|Reboot|Replace|Change|Tag|Untag)') THEN 3
    WHEN regexp_matches(event_name, '^(Delete|Remove|Terminate|Deregister|Release|Revoke)') THEN 4
    ELSE 99 END AS activity_id
  FROM cloudtrail
)`

// Flow records are Traffic (activity 6) reports of a capture window;
// action_id 1 Allowed for ACCEPT, 2 Denied for REJECT; NODATA/SKIPDATA
// records (no flow) are left out.
const ocsfNetworkActivity = `
CREATE OR REPLACE VIEW ocsf_network_activity AS
SELECT
  4001 AS class_uid, 'Network Activity' AS class_name, 4 AS category_uid, 'Network Activity' AS category_name,
  6 AS activity_id, 400106 AS type_uid,
  CAST(epoch_ms("time") AS BIGINT) AS "time",
  "start" * 1000 AS start_time, "end" * 1000 AS end_time,
  1 AS severity_id,
  CASE action WHEN 'ACCEPT' THEN 1 WHEN 'REJECT' THEN 2 ELSE 0 END AS action_id,
  CASE action WHEN 'ACCEPT' THEN 'Allowed' WHEN 'REJECT' THEN 'Denied' ELSE 'Unknown' END AS "action",
  {'ip': srcaddr, 'port': srcport, 'interface_uid': interface_id, 'vpc_uid': vpc_id, 'subnet_uid': subnet_id, 'instance_uid': instance_id} AS src_endpoint,
  {'ip': dstaddr, 'port': dstport} AS dst_endpoint,
  {'protocol_num': protocol, 'tcp_flags': tcp_flags, 'direction': flow_direction} AS connection_info,
  {'bytes': "bytes", 'packets': packets} AS traffic,
  {'provider': 'AWS', 'region': region, 'account': {'uid': account_id}} AS cloud,
  {'version': '` + ocsfVersion + `', 'product': {'name': 'Amazon VPC', 'vendor_name': 'AWS', 'feature': {'name': 'Flowlogs'}, 'version': CAST(version AS VARCHAR)}} AS metadata,
  account, in_region, dt, hour
FROM vpcflow
WHERE log_status IS NULL OR log_status = 'OK'`
