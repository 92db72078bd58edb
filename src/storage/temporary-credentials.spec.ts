import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { assumeUploadRole, stsDuration, TemporaryCredentialsUnavailableError, uploadSessionPolicy } from './temporary-credentials.js';

/** Whether an IAM resource pattern (`*` any run of characters, `?` one) matches an ARN, as IAM evaluates it. */
function iamMatches(pattern: string, arn: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(arn);
}

describe('uploadSessionPolicy', () => {
  const policy = uploadSessionPolicy('drone-bucket', 'sightline/drones/uploads/ws-1/') as {
    Version: string;
    Statement: { Effect: string; Action: string[]; Resource: string[] }[];
  };
  const allows = (action: string, key: string) =>
    policy.Statement.some((s) => s.Effect === 'Allow' && s.Action.includes(action) && s.Resource.some((r) => iamMatches(r, `arn:aws:s3:::drone-bucket/${key}`)));

  it('allows single and multipart writes under the prefix only', () => {
    assert.equal(policy.Version, '2012-10-17');
    assert.equal(allows('s3:PutObject', 'sightline/drones/uploads/ws-1/DJI_0001.JPG'), true);
    assert.equal(allows('s3:PutObject', 'sightline/drones/uploads/ws-1/2024/DJI_0001.JPG'), true);
    assert.equal(allows('s3:AbortMultipartUpload', 'sightline/drones/uploads/ws-1/big.MP4'), true);
    assert.equal(allows('s3:ListMultipartUploadParts', 'sightline/drones/uploads/ws-1/big.MP4'), true);
  });

  it('allows nothing outside the prefix: another workspace, the pictures, the bucket root', () => {
    assert.equal(allows('s3:PutObject', 'sightline/drones/uploads/ws-2/DJI_0001.JPG'), false);
    assert.equal(allows('s3:PutObject', 'sightline/drones/uploads/ws-1'), false);
    assert.equal(allows('s3:PutObject', 'sightline/pictures/ab/cd/x/hd.jpg'), false);
    assert.equal(allows('s3:PutObject', 'DJI_0001.JPG'), false);
  });

  it('grants no read, list or delete', () => {
    for (const action of ['s3:GetObject', 's3:DeleteObject', 's3:ListBucket', 's3:*', '*']) {
      assert.equal(allows(action, 'sightline/drones/uploads/ws-1/DJI_0001.JPG'), false, action);
    }
    assert.deepEqual(
      policy.Statement.map((s) => s.Effect),
      ['Allow'],
    );
  });

  it('refuses a prefix that is not a folder or carries wildcards', () => {
    assert.throws(() => uploadSessionPolicy('b', ''));
    assert.throws(() => uploadSessionPolicy('b', 'drones/uploads/ws-1'));
    assert.throws(() => uploadSessionPolicy('b', 'drones/*/'));
  });
});

describe('stsDuration', () => {
  it('keeps within AWS limits (15 min to 12 h)', () => {
    assert.equal(stsDuration(60), 900);
    assert.equal(stsDuration(3600), 3600);
    assert.equal(stsDuration(100_000), 43_200);
  });
});

describe('assumeUploadRole against an STS endpoint', () => {
  let server: http.Server;
  let endpoint = '';
  const requests: URLSearchParams[] = [];
  let refuse = false;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push(new URLSearchParams(body));
        if (refuse) {
          res.writeHead(403, { 'content-type': 'text/xml' });
          res.end('<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error><RequestId>r</RequestId></ErrorResponse>');
          return;
        }
        const expiration = new Date(Date.now() + 1800 * 1000).toISOString();
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>tempsecret</SecretAccessKey><SessionToken>token123</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('asks for the role with the prefix-only session policy and the duration, and returns the credentials', async () => {
    const c = await assumeUploadRole(
      { endpoint, region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/pilot-upload', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } },
      { bucket: 'drone-bucket', fullPrefix: 'drones/uploads/ws-1/' },
      600,
    );
    assert.equal(c.accessKeyId, 'ASIATEMP');
    assert.equal(c.sessionToken, 'token123');
    assert.ok(c.expire > 1700 && c.expire <= 1800, String(c.expire));
    const sent = requests.at(-1)!;
    assert.equal(sent.get('Action'), 'AssumeRole');
    assert.equal(sent.get('RoleArn'), 'arn:aws:iam::123456789012:role/pilot-upload');
    assert.equal(sent.get('DurationSeconds'), '900', 'raised to the minimum AWS accepts');
    assert.deepEqual(JSON.parse(sent.get('Policy')!), uploadSessionPolicy('drone-bucket', 'drones/uploads/ws-1/'));
  });

  it('a refusal is a 503 naming the endpoint', async () => {
    refuse = true;
    await assert.rejects(
      assumeUploadRole({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } }, { bucket: 'b', fullPrefix: 'p/' }, 900),
      (e: unknown) => e instanceof TemporaryCredentialsUnavailableError && e.status === 503 && e.message.includes(endpoint) && e.message.includes('403'),
    );
    refuse = false;
  });
});
