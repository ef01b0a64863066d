/**
 * Real-world secret formats as they show up in log lines, headers, configuration dumps and JSON
 * bodies. Each sample is a text and the secret parts that must not survive redaction. The values are
 * fakes in the real shape (AWS's documented EXAMPLE keys, test card numbers, random tokens).
 */

/** One sample: the text as logged and the substrings that must be gone after redaction. */
export interface SecretSample {
  text: string;
  secrets: string[];
}

const ghp = 'ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0123456789';
const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const pem = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi0Z6f1wRZiX8ucxQYhlAbvp2Vj',
  'Q0tG7kK2pFq4bN7d9yY9a5f5J7xqYlV6F4Kcq1b1Xw0=',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

/** Every sample must lose each of its secrets. */
export const SECRET_SAMPLES: SecretSample[] = [
  // key=value and key: value forms, anywhere in text
  { text: 'connecting with password=hunter2 to db', secrets: ['hunter2'] },
  { text: 'login payload {"username":"jdoe","password":"Tr0ub4dor&3"}', secrets: ['Tr0ub4dor&3'] },
  { text: 'escaped body "{\\"password\\":\\"s3cr3t-val\\"}"', secrets: ['s3cr3t-val'] },
  { text: 'config pwd: letmein99', secrets: ['letmein99'] },
  { text: 'DB_PWD=Sup3rS3cret!', secrets: ['Sup3rS3cret!'] },
  { text: 'secret: s3cr3t', secrets: ['s3cr3t'] },
  { text: 'api_key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0', secrets: ['9f8e7d6c5b4a39281706f5e4d3c2b1a0'] },
  { text: 'X-Api-Key: live-4c1f2a9e7b', secrets: ['live-4c1f2a9e7b'] },
  { text: 'userPassword=correcthorse userName=bob', secrets: ['correcthorse'] },
  { text: "client_secret='q8Xv2_p0LkR7zN4m'", secrets: ['q8Xv2_p0LkR7zN4m'] },
  { text: 'passphrase = "correct horse battery staple"', secrets: ['correct horse battery staple'] },
  { text: '{"access_token": "ya29.a0AfH6SMBx3Q", "expires_in": 3599}', secrets: ['ya29.a0AfH6SMBx3Q'] },
  { text: 'POST /oauth/token grant_type=refresh_token&refresh_token=1//0gLx9K7r&client_id=lms', secrets: ['1//0gLx9K7r'] },
  { text: 'PGPASSWORD=pg-pa55 psql -h db', secrets: ['pg-pa55'] },
  { text: 'session_id=8f14e45fceea167a5a36dedd4bea2543; path=/', secrets: ['8f14e45fceea167a5a36dedd4bea2543'] },
  { text: 'user ssn=078-05-1120 verified', secrets: ['078-05-1120'] },
  { text: 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', secrets: ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'] },
  { text: 'AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', secrets: ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'] },
  { text: 'GET /login?password=hunter2', secrets: ['hunter2'] },
  { text: 'GET /files/a.pdf?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20241010&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024', secrets: ['AKIAIOSFODNN7EXAMPLE', 'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024'] },
  { text: 'GET /blob?sv=2022-11-02&sig=Z%2FRHIX5Xcg0Mq2rqI3OlWTjEg2tYkboXr1P9ZUXDtkk%3D', secrets: ['Z%2FRHIX5Xcg0Mq2rqI3OlWTjEg2tYkboXr1P9ZUXDtkk%3D'] },
  // authorization schemes, any case
  { text: 'Authorization: Bearer abc123def456ghi789', secrets: ['abc123def456ghi789'] },
  { text: 'authorization: bearer 0a1b2c3d4e5f6a7b8c9d', secrets: ['0a1b2c3d4e5f6a7b8c9d'] },
  { text: 'Authorization: Basic dXNlcjpwYXNz', secrets: ['dXNlcjpwYXNz'] },
  { text: `Authorization: Token ${ghp}`, secrets: [ghp] },
  { text: 'using token 7c4a8d09ca3762af61e59520943dc26494f8941b for the call', secrets: ['7c4a8d09ca3762af61e59520943dc26494f8941b'] },
  { text: 'Authorization: Splunk 6b2a4c1e-3f5d-4e7a-9b8c-0d1e2f3a4b5c', secrets: ['6b2a4c1e-3f5d-4e7a-9b8c-0d1e2f3a4b5c'] },
  { text: 'Proxy-Authorization: Digest username="u", response="6629fae49393a05397450978507c4ef1"', secrets: ['6629fae49393a05397450978507c4ef1'] },
  // cookies
  { text: 'Cookie: session=eyJ1aWQiOjQyfQ; theme=dark', secrets: ['eyJ1aWQiOjQyfQ'] },
  { text: 'set-cookie: sid=s%3A9xYzAbC.dEfGhI; Path=/; HttpOnly', secrets: ['s%3A9xYzAbC.dEfGhI'] },
  { text: '{"headers":{"cookie":"vigil_session=f3a9c2b1d0e4"}}', secrets: ['f3a9c2b1d0e4'] },
  // vendor token formats, bare in text
  { text: 'VIGIL_TOKEN=vgl_q3Xr9ZkP0aLmN2bV7cY4dE1fG8hJ6kS5tU0wQ2xR9zA', secrets: ['vgl_q3Xr9ZkP0aLmN2bV7cY4dE1fG8hJ6kS5tU0wQ2xR9zA'] },
  { text: 'sent header vgl_q3Xr9ZkP0aLmN2bV7cY4dE1fG8hJ6kS5tU0wQ2xR9zA to collector', secrets: ['q3Xr9ZkP0aLmN2bV7cY4dE1fG8hJ6kS5tU0wQ2xR9zA'] },
  { text: `git clone https://${ghp}@github.com/org/repo`, secrets: [ghp] },
  { text: `cloned with ${ghp}`, secrets: [ghp] },
  { text: 'GITHUB_TOKEN gho_16C7e42F292c6912E7710c838347Ae178B4a', secrets: ['gho_16C7e42F292c6912E7710c838347Ae178B4a'] },
  { text: 'installation token ghs_xb1Kq9Zt8Yw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9F', secrets: ['ghs_xb1Kq9Zt8Yw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9F'] },
  { text: 'pat github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab', secrets: ['github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab'] },
  { text: 'gitlab glpat-xT4Kf9bLq2Zr8NvW1cYd', secrets: ['glpat-xT4Kf9bLq2Zr8NvW1cYd'] },
  { text: 'slack bot xoxb-2048-4096-aBcDeFgHiJkLmNoPqRsT', secrets: ['xoxb-2048-4096-aBcDeFgHiJkLmNoPqRsT'] },
  { text: 'webhook https://hooks.slack.com/services/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', secrets: ['XyZ1a2B3c4D5e6F7g8H9i0Jk'] },
  { text: 'charging with sk_live_51H8xYzAbCdEfGhIjKlMnOpQr', secrets: ['sk_live_51H8xYzAbCdEfGhIjKlMnOpQr'] },
  { text: 'restricted rk_live_51H8xYzAbCdEfGhIjKlMnOpQr', secrets: ['rk_live_51H8xYzAbCdEfGhIjKlMnOpQr'] },
  { text: 'maps key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY', secrets: ['AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'] },
  { text: 'aws access key AKIAIOSFODNN7EXAMPLE used from 10.0.0.1', secrets: ['AKIAIOSFODNN7EXAMPLE'] },
  { text: 'sts ASIAY34FZKBOKMUTVV7A assumed role', secrets: ['ASIAY34FZKBOKMUTVV7A'] },
  { text: 'npm publish with npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', secrets: ['npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'] },
  { text: 'sendgrid 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', secrets: ['ngeVfQFYQlKU0ufo8x5d1A', 'TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr'] },
  { text: 'OPENAI key sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78', secrets: ['Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78'] },
  { text: 'anthropic sk-ant-api03-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90', secrets: ['Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90'] },
  { text: `id_token ${jwt}`, secrets: [jwt.split('.')[1]!, jwt.split('.')[2]!] },
  { text: `private key loaded:\n${pem}`, secrets: ['MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi0Z6f1wRZiX8ucxQYhlAbvp2Vj'] },
  { text: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----', secrets: ['b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'] },
  { text: JSON.stringify({ tls: { key: pem } }), secrets: ['MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi0Z6f1wRZiX8ucxQYhlAbvp2Vj', 'Q0tG7kK2pFq4bN7d9yY9a5f5J7xqYlV6F4Kcq1b1Xw0='] },
  // URL credentials
  { text: 'postgres://rms:s3cret@db:5432/rms', secrets: ['s3cret'] },
  { text: 'MONGO_URL=mongodb+srv://admin:Pa55w0rd@cluster0.mongodb.net/lms', secrets: ['Pa55w0rd'] },
  // personal and payment data
  { text: 'payment failed for jane.doe+rms@example.co.uk', secrets: ['jane.doe+rms@example.co.uk'] },
  { text: 'card 4111 1111 1111 1111 declined', secrets: ['4111 1111 1111 1111'] },
  { text: 'card 4111-1111-1111-1111 declined', secrets: ['4111-1111-1111-1111'] },
  { text: 'card 4111.1111.1111.1111 declined', secrets: ['4111.1111.1111.1111'] },
  { text: 'pan=card4111111111111111exp1227', secrets: ['4111111111111111'] },
  { text: 'mc 5555555555554444, amex 3782 822463 10005, diners 3056 9309 0259 04', secrets: ['5555555555554444', '3782 822463 10005', '3056 9309 0259 04'] },
  { text: 'visa13 4222222222222 discover 6011111111111117 jcb 3530111333300000', secrets: ['4222222222222', '6011111111111117', '3530111333300000'] },
  { text: 'ref=ORD12-4111111111111111', secrets: ['4111111111111111'] },
];
