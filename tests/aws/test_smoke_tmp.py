def test_sts_and_iam(root, make_client):
    ident = root("sts").get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::000000000000:root"
    iam = root("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = make_client("sts", (key["AccessKeyId"], key["SecretAccessKey"]))
    assert alice.get_caller_identity()["Arn"].endswith(":user/alice")
    s3 = root("s3")
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="a/b c.txt", Body=b"hello")
    assert s3.get_object(Bucket="photos", Key="a/b c.txt")["Body"].read() == b"hello"
    print(s3.list_objects_v2(Bucket="photos"))
