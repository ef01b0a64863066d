/**
 * Slack integration: an incoming-webhook message with one attachment, its texts defaulting to
 * Alertmanager's `slack.default.*` templates and its color to danger (firing) or good (resolved).
 */
import type { SlackConfig } from '../config.ts';
import { namedTemplate, postJson, renderTemplate, templateData, type DeliveryContext, type HttpAuth, type Integration, type Notification, authHeader, redirectsAllowed } from './common.ts';
import type { AttemptResult } from '../retry.ts';

/** A slack_config as the integration needs it (unset texts take Alertmanager's defaults). */
export type SlackOptions = Omit<SlackConfig, 'httpConfig'> & { auth?: HttpAuth };

/** One Slack attachment as Alertmanager sends it (empty fields omitted). */
export interface SlackAttachment {
  title?: string;
  title_link?: string;
  pretext?: string;
  text?: string;
  fallback?: string;
  footer?: string;
  color?: string;
  mrkdwn_in: string[];
}

/** The Slack request body. */
export interface SlackMessage {
  channel?: string;
  username?: string;
  icon_emoji?: string;
  icon_url?: string;
  attachments: SlackAttachment[];
}

function omitEmpty<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

/** Builds the Slack message of a notification; pure. */
export function slackMessage(n: Notification, o: Omit<SlackOptions, 'apiUrl' | 'sendResolved'>): SlackMessage {
  const d = templateData(n);
  const t = (value: string | undefined, dflt: string) => (value === undefined ? namedTemplate(dflt, d) : renderTemplate(value, d));
  const attachment = omitEmpty<SlackAttachment>({
    title: t(o.title, 'slack.default.title'),
    title_link: t(o.titleLink, 'slack.default.titlelink'),
    pretext: t(o.pretext, 'slack.default.pretext'),
    text: t(o.text, 'slack.default.text'),
    fallback: t(o.fallback, 'slack.default.fallback'),
    footer: o.footer === undefined ? undefined : renderTemplate(o.footer, d),
    color: o.color === undefined ? (d.status === 'firing' ? 'danger' : 'good') : renderTemplate(o.color, d),
    mrkdwn_in: ['fallback', 'pretext', 'text'],
  });
  return omitEmpty<SlackMessage>({
    channel: o.channel === undefined ? undefined : renderTemplate(o.channel, d),
    username: t(o.username, 'slack.default.username'),
    icon_emoji: o.iconEmoji,
    icon_url: o.iconUrl,
    attachments: [attachment],
  });
}

/** Posts to a Slack incoming webhook. */
export class SlackIntegration implements Integration {
  readonly type = 'slack';

  constructor(
    readonly index: number,
    private readonly opts: SlackOptions,
  ) {}

  get sendResolved(): boolean {
    return this.opts.sendResolved;
  }

  async notify(n: Notification, ctx: DeliveryContext): Promise<AttemptResult> {
    const auth = authHeader(this.opts.auth);
    return postJson(this.opts.apiUrl, slackMessage(n, this.opts), auth ? { authorization: auth } : {}, ctx, redirectsAllowed(this.opts.auth));
  }
}
