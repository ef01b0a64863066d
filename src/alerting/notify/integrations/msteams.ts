/**
 * Microsoft Teams integration: the MessageCard Alertmanager's msteams integration posts to an
 * incoming webhook (title, summary, markdown text, a theme color by status).
 */
import type { MsTeamsConfig } from '../config.ts';
import { namedTemplate, postJson, renderTemplate, templateData, type DeliveryContext, type HttpAuth, type Integration, type Notification, authHeader, redirectsAllowed } from './common.ts';
import type { AttemptResult } from '../retry.ts';

/** An msteams_config as the integration needs it. */
export type MsTeamsOptions = Omit<MsTeamsConfig, 'httpConfig'> & { auth?: HttpAuth };

/** The MessageCard body. */
export interface TeamsMessage {
  '@context': 'http://schema.org/extensions';
  type: 'MessageCard';
  title: string;
  summary: string;
  text: string;
  themeColor: string;
}

// Alertmanager's colors: red while anything fires, green once all is resolved.
const COLOR_FIRING = '8C1A1A';
const COLOR_RESOLVED = '2DC72D';

/** Builds the MessageCard of a notification; pure. */
export function teamsMessage(n: Notification, o: Pick<MsTeamsOptions, 'title' | 'summary' | 'text'>): TeamsMessage {
  const d = templateData(n);
  const t = (value: string | undefined, dflt: string) => (value === undefined ? namedTemplate(dflt, d) : renderTemplate(value, d));
  return {
    '@context': 'http://schema.org/extensions',
    type: 'MessageCard',
    title: t(o.title, 'msteams.default.title'),
    summary: t(o.summary, 'msteams.default.summary'),
    text: t(o.text, 'msteams.default.text'),
    themeColor: d.status === 'firing' ? COLOR_FIRING : COLOR_RESOLVED,
  };
}

/** Posts to a Teams incoming webhook. */
export class MsTeamsIntegration implements Integration {
  readonly type = 'msteams';

  constructor(
    readonly index: number,
    private readonly opts: MsTeamsOptions,
  ) {}

  get sendResolved(): boolean {
    return this.opts.sendResolved;
  }

  async notify(n: Notification, ctx: DeliveryContext): Promise<AttemptResult> {
    const auth = authHeader(this.opts.auth);
    return postJson(this.opts.webhookUrl, teamsMessage(n, this.opts), auth ? { authorization: auth } : {}, ctx, redirectsAllowed(this.opts.auth));
  }
}
