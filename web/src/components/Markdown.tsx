/**
 * Renders runbook Markdown (web/src/markdown.ts) as React elements: text is always text (React escapes
 * it), so Markdown written by anyone can never inject HTML or script.
 */
import type { ReactNode } from 'react';
import { parseMarkdown, type MdBlock, type MdInline } from '../markdown.ts';

function inline(nodes: MdInline[]): ReactNode[] {
  return nodes.map((n, i) => {
    switch (n.type) {
      case 'text':
        return n.text;
      case 'code':
        return <code key={i}>{n.text}</code>;
      case 'strong':
        return <strong key={i}>{inline(n.children)}</strong>;
      case 'em':
        return <em key={i}>{inline(n.children)}</em>;
      case 'link':
        return n.href.startsWith('/') || n.href.startsWith('#') ? (
          <a key={i} href={n.href}>
            {inline(n.children)}
          </a>
        ) : (
          <a key={i} href={n.href} target="_blank" rel="noopener noreferrer">
            {inline(n.children)}
          </a>
        );
    }
  });
}

function block(b: MdBlock, i: number): ReactNode {
  switch (b.type) {
    case 'heading': {
      // Runbooks sit under the panel's own heading: their levels start one below it.
      const H = (['h3', 'h4', 'h5', 'h6', 'h6', 'h6'] as const)[b.level - 1]!;
      return <H key={i}>{inline(b.children)}</H>;
    }
    case 'paragraph':
      return (
        <p key={i} className="wrap">
          {inline(b.children)}
        </p>
      );
    case 'list':
      return b.ordered ? (
        <ol key={i} start={b.start}>
          {b.items.map((it, j) => (
            <li key={j}>{inline(it)}</li>
          ))}
        </ol>
      ) : (
        <ul key={i}>
          {b.items.map((it, j) => (
            <li key={j}>{inline(it)}</li>
          ))}
        </ul>
      );
    case 'code':
      return (
        <pre key={i} className="code">
          {b.text}
        </pre>
      );
    case 'quote':
      return <blockquote key={i}>{b.children.map(block)}</blockquote>;
    case 'rule':
      return <hr key={i} />;
  }
}

/** Markdown text as React elements. */
export function Markdown({ text, className }: { text: string; className?: string }) {
  return <div className={`markdown ${className ?? ''}`}>{parseMarkdown(text).map(block)}</div>;
}
