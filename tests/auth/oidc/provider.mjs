// A real OpenID Connect provider for the single sign-on tests: the `oidc-provider` package
// (panva/node-oidc-provider), with one confidential client and accounts whose groups come from
// the GROUPS environment variable ({"login": ["group", ...]}). Its development login form
// takes any login name (the password is not checked), then asks for consent.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const groups = JSON.parse(process.env.GROUPS || '{}');
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  conformIdTokenClaims: false,
  cookies: { keys: ['vulnops-test-cookie-key'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@corp.example`,
          email_verified: true,
          name: id,
          groups: groups[id] || [],
        };
      },
    };
  },
});
provider.listen(port, '127.0.0.1', () => console.log('ready'));
