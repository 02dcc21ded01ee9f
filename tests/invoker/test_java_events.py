"""The java17 runtime and the aws-lambda-java-events classes: Lambda's event JSON into their shapes and back.

Maven Central is out of reach here, so the event classes are written in this file in the shapes the library
gives them (the same packages, names, setters, constructors and field types: ``Records`` behind
``getRecords``, ``eventSourceARN`` behind ``getEventSourceArn``, DynamoDB's ``S``/``N``/``B``/``NULL``,
``Date`` and ``ByteBuffer`` fields, the S3 notification classes that have only constructors, Joda's
``DateTime``), shipped in ``lib/`` as a function ships the real jar; the events are those Kiln's own sources
send (as AWS documents them). The handlers read them through the typed getters.
"""

from __future__ import annotations

import base64

import pytest

from functions.runtimes import runtime_info
from invoker.javabuild import bootstrap_jar
from tests.conftest import invoke
from tests.invoker.test_java_runtime import _compile
from tests.invoker.test_java_runtime import _zip_tree as _zip

JAVA17 = runtime_info("java17")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
    pytest.mark.skipif(JAVA17 is None, reason="needs a JDK 17; .ci/run installs default-jdk-headless"),
]

EVENTS = "com/amazonaws/services/lambda/runtime/events"
LIBRARY = {
    f"{EVENTS}/SQSEvent.java": """package com.amazonaws.services.lambda.runtime.events;
import java.nio.ByteBuffer; import java.util.List; import java.util.Map;
public class SQSEvent {
    private List<SQSMessage> records;
    public List<SQSMessage> getRecords() { return records; }
    public void setRecords(List<SQSMessage> records) { this.records = records; }
    public static class MessageAttribute {
        private String stringValue; private ByteBuffer binaryValue; private String dataType;
        public String getStringValue() { return stringValue; } public void setStringValue(String v) { stringValue = v; }
        public ByteBuffer getBinaryValue() { return binaryValue; } public void setBinaryValue(ByteBuffer v) { binaryValue = v; }
        public String getDataType() { return dataType; } public void setDataType(String v) { dataType = v; }
    }
    public static class SQSMessage {
        private String messageId, receiptHandle, body, eventSourceArn, awsRegion;
        private Map<String, String> attributes; private Map<String, MessageAttribute> messageAttributes;
        public String getMessageId() { return messageId; } public void setMessageId(String v) { messageId = v; }
        public String getReceiptHandle() { return receiptHandle; } public void setReceiptHandle(String v) { receiptHandle = v; }
        public String getBody() { return body; } public void setBody(String v) { body = v; }
        public String getEventSourceArn() { return eventSourceArn; } public void setEventSourceArn(String v) { eventSourceArn = v; }
        public String getAwsRegion() { return awsRegion; } public void setAwsRegion(String v) { awsRegion = v; }
        public Map<String, String> getAttributes() { return attributes; } public void setAttributes(Map<String, String> v) { attributes = v; }
        public Map<String, MessageAttribute> getMessageAttributes() { return messageAttributes; }
        public void setMessageAttributes(Map<String, MessageAttribute> v) { messageAttributes = v; }
    }
}
""",
    f"{EVENTS}/models/dynamodb/AttributeValue.java": """package com.amazonaws.services.lambda.runtime.events.models.dynamodb;
import java.nio.ByteBuffer; import java.util.List; import java.util.Map;
public class AttributeValue {
    private String s, n; private ByteBuffer b; private List<String> sS; private Map<String, AttributeValue> m; private List<AttributeValue> l;
    private Boolean nULLValue, bOOL;
    public String getS() { return s; } public void setS(String v) { s = v; }
    public String getN() { return n; } public void setN(String v) { n = v; }
    public ByteBuffer getB() { return b; } public void setB(ByteBuffer v) { b = v; }
    public List<String> getSS() { return sS; } public void setSS(List<String> v) { sS = v; }
    public Map<String, AttributeValue> getM() { return m; } public void setM(Map<String, AttributeValue> v) { m = v; }
    public List<AttributeValue> getL() { return l; } public void setL(List<AttributeValue> v) { l = v; }
    public Boolean isNULL() { return nULLValue; } public void setNULL(Boolean v) { nULLValue = v; }
    public Boolean getBOOL() { return bOOL; } public void setBOOL(Boolean v) { bOOL = v; }
}
""",
    f"{EVENTS}/models/dynamodb/StreamRecord.java": """package com.amazonaws.services.lambda.runtime.events.models.dynamodb;
import java.util.Date; import java.util.Map;
public class StreamRecord {
    private Date approximateCreationDateTime; private Map<String, AttributeValue> keys, newImage, oldImage;
    private String sequenceNumber, streamViewType; private Long sizeBytes;
    public Date getApproximateCreationDateTime() { return approximateCreationDateTime; } public void setApproximateCreationDateTime(Date v) { approximateCreationDateTime = v; }
    public Map<String, AttributeValue> getKeys() { return keys; } public void setKeys(Map<String, AttributeValue> v) { keys = v; }
    public Map<String, AttributeValue> getNewImage() { return newImage; } public void setNewImage(Map<String, AttributeValue> v) { newImage = v; }
    public Map<String, AttributeValue> getOldImage() { return oldImage; } public void setOldImage(Map<String, AttributeValue> v) { oldImage = v; }
    public String getSequenceNumber() { return sequenceNumber; } public void setSequenceNumber(String v) { sequenceNumber = v; }
    public String getStreamViewType() { return streamViewType; } public void setStreamViewType(String v) { streamViewType = v; }
    public Long getSizeBytes() { return sizeBytes; } public void setSizeBytes(Long v) { sizeBytes = v; }
}
""",
    f"{EVENTS}/DynamodbEvent.java": """package com.amazonaws.services.lambda.runtime.events;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord; import java.util.List;
public class DynamodbEvent {
    private List<DynamodbStreamRecord> records;
    public List<DynamodbStreamRecord> getRecords() { return records; } public void setRecords(List<DynamodbStreamRecord> v) { records = v; }
    public enum OperationType { INSERT, MODIFY, REMOVE }
    public static class DynamodbStreamRecord {
        private String eventID, eventName, eventSourceArn; private StreamRecord dynamodb;
        public String getEventID() { return eventID; } public void setEventID(String v) { eventID = v; }
        public String getEventName() { return eventName; } public void setEventName(String v) { eventName = v; }
        public void setEventName(OperationType v) { eventName = v.name(); }
        public String getEventSourceArn() { return eventSourceArn; } public void setEventSourceArn(String v) { eventSourceArn = v; }
        public StreamRecord getDynamodb() { return dynamodb; } public void setDynamodb(StreamRecord v) { dynamodb = v; }
    }
}
""",
    f"{EVENTS}/models/s3/S3EventNotification.java": """package com.amazonaws.services.lambda.runtime.events.models.s3;
import java.util.List; import org.joda.time.DateTime;
public class S3EventNotification {
    private final List<S3EventNotificationRecord> records;
    public S3EventNotification(List<S3EventNotificationRecord> records) { this.records = records; }
    public List<S3EventNotificationRecord> getRecords() { return records; }
    public static class UserIdentityEntity {
        private final String principalId;
        public UserIdentityEntity(String principalId) { this.principalId = principalId; }
        public String getPrincipalId() { return principalId; }
    }
    public static class S3BucketEntity {
        private final String name, arn; private final UserIdentityEntity ownerIdentity;
        public S3BucketEntity(String name, UserIdentityEntity ownerIdentity, String arn) { this.name = name; this.ownerIdentity = ownerIdentity; this.arn = arn; }
        public String getName() { return name; } public String getArn() { return arn; } public UserIdentityEntity getOwnerIdentity() { return ownerIdentity; }
    }
    public static class S3ObjectEntity {
        private final String key, eTag, versionId, sequencer; private final Long size;
        @Deprecated public S3ObjectEntity(String key, Integer size, String eTag, String versionId) { this(key, size == null ? null : size.longValue(), eTag, versionId, null); }
        public S3ObjectEntity(String key, Long size, String eTag, String versionId, String sequencer) { this.key = key; this.size = size; this.eTag = eTag; this.versionId = versionId; this.sequencer = sequencer; }
        public String getKey() { return key; } public Long getSizeAsLong() { return size; } public String geteTag() { return eTag; } public String getSequencer() { return sequencer; }
    }
    public static class S3Entity {
        private final String configurationId, s3SchemaVersion; private final S3BucketEntity bucket; private final S3ObjectEntity object;
        public S3Entity(String configurationId, S3BucketEntity bucket, S3ObjectEntity object, String s3SchemaVersion) { this.configurationId = configurationId; this.bucket = bucket; this.object = object; this.s3SchemaVersion = s3SchemaVersion; }
        public String getConfigurationId() { return configurationId; } public S3BucketEntity getBucket() { return bucket; } public S3ObjectEntity getObject() { return object; }
    }
    public static class RequestParametersEntity {
        private final String sourceIPAddress;
        public RequestParametersEntity(String sourceIPAddress) { this.sourceIPAddress = sourceIPAddress; }
        public String getSourceIPAddress() { return sourceIPAddress; }
    }
    public static class ResponseElementsEntity {
        private final String xAmzId2, xAmzRequestId;
        public ResponseElementsEntity(String xAmzId2, String xAmzRequestId) { this.xAmzId2 = xAmzId2; this.xAmzRequestId = xAmzRequestId; }
        public String getxAmzId2() { return xAmzId2; } public String getxAmzRequestId() { return xAmzRequestId; }
    }
    public static class S3EventNotificationRecord {
        private final String awsRegion, eventName, eventSource, eventVersion; private DateTime eventTime;
        private final RequestParametersEntity requestParameters; private final ResponseElementsEntity responseElements;
        private final S3Entity s3; private final UserIdentityEntity userIdentity;
        public S3EventNotificationRecord(String awsRegion, String eventName, String eventSource, String eventTime, String eventVersion,
                RequestParametersEntity requestParameters, ResponseElementsEntity responseElements, S3Entity s3, UserIdentityEntity userIdentity) {
            this.awsRegion = awsRegion; this.eventName = eventName; this.eventSource = eventSource; this.eventVersion = eventVersion;
            if (eventTime != null) this.eventTime = DateTime.parse(eventTime);
            this.requestParameters = requestParameters; this.responseElements = responseElements; this.s3 = s3; this.userIdentity = userIdentity;
        }
        public String getAwsRegion() { return awsRegion; } public String getEventName() { return eventName; } public DateTime getEventTime() { return eventTime; }
        public S3Entity getS3() { return s3; } public ResponseElementsEntity getResponseElements() { return responseElements; }
        public RequestParametersEntity getRequestParameters() { return requestParameters; } public UserIdentityEntity getUserIdentity() { return userIdentity; }
    }
}
""",
    f"{EVENTS}/S3Event.java": """package com.amazonaws.services.lambda.runtime.events;
import com.amazonaws.services.lambda.runtime.events.models.s3.S3EventNotification; import java.util.ArrayList; import java.util.List;
public class S3Event extends S3EventNotification {
    public S3Event() { super(new ArrayList<S3EventNotificationRecord>()); }
    public S3Event(List<S3EventNotificationRecord> records) { super(records); }
}
""",
    f"{EVENTS}/ScheduledEvent.java": """package com.amazonaws.services.lambda.runtime.events;
import java.util.List; import java.util.Map; import org.joda.time.DateTime;
public class ScheduledEvent {
    private String account, region, source, id, detailType; private DateTime time; private List<String> resources; private Map<String, Object> detail;
    public String getAccount() { return account; } public void setAccount(String v) { account = v; }
    public String getSource() { return source; } public void setSource(String v) { source = v; }
    public String getId() { return id; } public void setId(String v) { id = v; }
    public String getDetailType() { return detailType; } public void setDetailType(String v) { detailType = v; }
    public DateTime getTime() { return time; } public void setTime(DateTime v) { time = v; }
    public List<String> getResources() { return resources; } public void setResources(List<String> v) { resources = v; }
    public Map<String, Object> getDetail() { return detail; } public void setDetail(Map<String, Object> v) { detail = v; }
}
""",
    f"{EVENTS}/APIGatewayProxyResponseEvent.java": """package com.amazonaws.services.lambda.runtime.events;
import java.util.Map;
public class APIGatewayProxyResponseEvent {
    private Integer statusCode; private Map<String, String> headers; private String body; private Boolean isBase64Encoded;
    public Integer getStatusCode() { return statusCode; } public void setStatusCode(Integer v) { statusCode = v; }
    public Map<String, String> getHeaders() { return headers; } public void setHeaders(Map<String, String> v) { headers = v; }
    public String getBody() { return body; } public void setBody(String v) { body = v; }
    public Boolean getIsBase64Encoded() { return isBase64Encoded; } public void setIsBase64Encoded(Boolean v) { isBase64Encoded = v; }
}
""",
    # Joda-Time's DateTime as far as the events use it (the real jar ships beside aws-lambda-java-events).
    "org/joda/time/DateTime.java": """package org.joda.time;
public final class DateTime {
    private final java.time.OffsetDateTime value;
    private DateTime(java.time.OffsetDateTime value) { this.value = value; }
    public static DateTime parse(String text) { return new DateTime(java.time.OffsetDateTime.parse(text)); }
    public long getMillis() { return value.toInstant().toEpochMilli(); }
    @Override public String toString() { return value.toString(); }
}
""",
}

HANDLERS = {"example/Events.java": """package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.events.*;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import com.amazonaws.services.lambda.runtime.events.models.s3.S3EventNotification.S3EventNotificationRecord;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class Events {
    public Map<String, Object> sqs(SQSEvent event, Context context) {
        SQSEvent.SQSMessage m = event.getRecords().get(0);
        SQSEvent.MessageAttribute blob = m.getMessageAttributes().get("blob");
        byte[] bytes = new byte[blob.getBinaryValue().remaining()];
        blob.getBinaryValue().duplicate().get(bytes);
        return Map.of("count", event.getRecords().size(), "body", m.getBody(), "arn", m.getEventSourceArn(), "receives", m.getAttributes().get("ApproximateReceiveCount"),
                      "blob", new String(bytes, StandardCharsets.UTF_8), "colour", m.getMessageAttributes().get("colour").getStringValue());
    }

    public Map<String, Object> dynamodb(DynamodbEvent event, Context context) {
        DynamodbEvent.DynamodbStreamRecord r = event.getRecords().get(0);
        Map<String, AttributeValue> image = r.getDynamodb().getNewImage();
        byte[] bytes = new byte[image.get("data").getB().remaining()];
        image.get("data").getB().duplicate().get(bytes);  // not consumed: the buffer is written back below
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", r.getEventName());
        out.put("arn", r.getEventSourceArn());
        out.put("id", r.getDynamodb().getKeys().get("Id").getN());
        out.put("created_ms", r.getDynamodb().getApproximateCreationDateTime().getTime());
        out.put("size", r.getDynamodb().getSizeBytes());
        out.put("data", new String(bytes, StandardCharsets.UTF_8));
        out.put("tags", image.get("tags").getSS());
        out.put("nested", image.get("doc").getM().get("list").getL().get(0).getS());
        out.put("gone", image.get("gone").isNULL());
        out.put("flag", image.get("flag").getBOOL());
        out.put("record", r.getDynamodb());  // written back: the Date as epoch seconds, the ByteBuffer as base64
        return out;
    }

    public Map<String, Object> s3(S3Event event, Context context) {
        S3EventNotificationRecord r = event.getRecords().get(0);
        return Map.of("bucket", r.getS3().getBucket().getName(), "key", r.getS3().getObject().getKey(), "size", r.getS3().getObject().getSizeAsLong(),
                      "etag", r.getS3().getObject().geteTag(), "time_ms", r.getEventTime().getMillis(), "request", r.getResponseElements().getxAmzRequestId(),
                      "ip", r.getRequestParameters().getSourceIPAddress(), "principal", r.getUserIdentity().getPrincipalId(), "event", r.getEventName());
    }

    public APIGatewayProxyResponseEvent scheduled(ScheduledEvent event, Context context) {
        APIGatewayProxyResponseEvent response = new APIGatewayProxyResponseEvent();
        response.setStatusCode(200);
        response.setHeaders(Map.of("x-time", event.getTime().toString()));
        response.setBody(event.getDetailType() + " from " + event.getSource() + " at " + event.getTime().getMillis() + " " + event.getResources());
        response.setIsBase64Encoded(false);
        return response;
    }
}
"""}


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> str:
    """Handler classes at the root, the event classes as ``lib/aws-lambda-java-events.jar``: base64."""
    assert JAVA17 is not None
    library = _compile(tmp_path_factory.mktemp("events"), LIBRARY, [bootstrap_jar(JAVA17.executable)])
    handlers = _compile(tmp_path_factory.mktemp("handlers"), HANDLERS, [bootstrap_jar(JAVA17.executable), library])
    jar = _zip({str(p.relative_to(library)): p.read_bytes() for p in library.rglob("*.class")})
    files = {str(p.relative_to(handlers)): p.read_bytes() for p in handlers.rglob("*.class")}
    return base64.b64encode(_zip({**files, "lib/aws-lambda-java-events.jar": jar})).decode()


def _function(api, package: str, method: str) -> str:
    name = f"java-events-{method}"
    response = api.post("/api/v1/functions/", {"name": name, "runtime": "java17", "handler": f"example.Events::{method}", "code": {"zip_base64": package}, "timeout": 20},
                        format="json")
    assert response.status_code == 201, response.content
    return name


def _answer(api, name: str, event: dict) -> object:
    response = invoke(api, name, event)
    assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
    return response.json()


def test_an_sqs_event_into_sqsevent(api, package):
    event = {"Records": [{"messageId": "m-1", "receiptHandle": "rh", "body": "hello", "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
                          "messageAttributes": {"colour": {"stringValue": "blue", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
                                                "blob": {"binaryValue": base64.b64encode(b"bytes!").decode(), "dataType": "Binary"}},
                          "md5OfBody": "x", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q", "awsRegion": "us-east-1"}]}
    assert _answer(api, _function(api, package, "sqs"), event) == {"count": 1, "body": "hello", "arn": "arn:aws:sqs:us-east-1:000000000000:q", "receives": "2",
                                                                   "blob": "bytes!", "colour": "blue"}


def test_a_dynamodb_stream_event_into_dynamodbevent_with_dates_in_seconds_and_binary_in_base64(api, package):
    image = {"Id": {"N": "101"}, "data": {"B": base64.b64encode(b"raw").decode()}, "tags": {"SS": ["a", "b"]}, "doc": {"M": {"list": {"L": [{"S": "deep"}]}}},
             "gone": {"NULL": True}, "flag": {"BOOL": False}}
    event = {"Records": [{"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                          "dynamodb": {"ApproximateCreationDateTime": 1700000000.5, "Keys": {"Id": {"N": "101"}}, "NewImage": image,
                                       "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_IMAGE"},
                          "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-12-01T00:00:00.000"}]}
    out = _answer(api, _function(api, package, "dynamodb"), event)
    assert {k: v for k, v in out.items() if k != "record"} == {"name": "INSERT", "arn": event["Records"][0]["eventSourceARN"], "id": "101", "created_ms": 1700000000500,
                                                               "size": 26, "data": "raw", "tags": ["a", "b"], "nested": "deep", "gone": True, "flag": False}
    assert out["record"]["approximateCreationDateTime"] == 1700000000.5  # Lambda's DateModule: epoch seconds
    assert out["record"]["newImage"]["data"]["b"] == base64.b64encode(b"raw").decode() and out["record"]["sequenceNumber"] == "111"


def test_an_s3_notification_into_s3event_built_through_its_constructors(api, package):
    event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-12-01T10:00:00.123Z", "eventName": "ObjectCreated:Put",
                          "userIdentity": {"principalId": "AWS:AIDA"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                          "responseElements": {"x-amz-request-id": "REQ123", "x-amz-id-2": "ID2"},
                          "s3": {"s3SchemaVersion": "1.0", "configurationId": "cfg", "bucket": {"name": "photos", "ownerIdentity": {"principalId": "A"}, "arn": "arn:aws:s3:::photos"},
                                 "object": {"key": "cat.jpg", "size": 5_000_000_000, "eTag": "e1", "sequencer": "00AB"}}}]}
    assert _answer(api, _function(api, package, "s3"), event) == {"bucket": "photos", "key": "cat.jpg", "size": 5_000_000_000, "etag": "e1", "time_ms": 1796119200123,
                                                                  "request": "REQ123", "ip": "127.0.0.1", "principal": "AWS:AIDA", "event": "ObjectCreated:Put"}


def test_a_scheduled_event_with_a_joda_time_and_an_api_gateway_response_event_back(api, package):
    event = {"version": "0", "id": "e-1", "detail-type": "Scheduled Event", "source": "aws.events", "account": "000000000000", "time": "2026-12-01T10:00:00Z",
             "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:000000000000:rule/r"], "detail": {}}
    out = _answer(api, _function(api, package, "scheduled"), event)
    # "detail-type" is no bean name: as on Lambda (its ScheduledEvent mixin maps it), Kiln matches it to detailType.
    assert out == {"statusCode": 200, "headers": {"x-time": "2026-12-01T10:00Z"}, "isBase64Encoded": False,
                   "body": "Scheduled Event from aws.events at 1796119200000 [arn:aws:events:us-east-1:000000000000:rule/r]"}
