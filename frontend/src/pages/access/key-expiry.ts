// A key's expiry as the form offers it and as the table shows it.
import type { BoardApiKey } from "../../types";

const DAY = 24 * 3600 * 1000;

export const expiryChoices = [
  { value: "never", label: "Never" },
  { value: "7", label: "In 7 days" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
  { value: "date", label: "On a date…" },
];

/** The `expiresAt` to send (null: never), or why the choice cannot be used. */
export function expiryFrom(choice: string, date: string, now: number = Date.now()): { expiresAt: string | null } | { error: string } {
  if (choice === "never") return { expiresAt: null };
  if (choice === "date") {
    if (!date) return { error: "Choose the date the key should stop working." };
    // The end of the chosen day, in the viewer's time zone.
    const end = new Date(`${date}T23:59:59`);
    if (Number.isNaN(end.getTime())) return { error: "That date cannot be read." };
    if (end.getTime() <= now) return { error: "The expiry date must be in the future." };
    return { expiresAt: end.toISOString() };
  }
  return { expiresAt: new Date(now + Number(choice) * DAY).toISOString() };
}

export function keyState(k: BoardApiKey, now: number = Date.now()): { label: string; tone: "good" | "warn" | "neutral" | "bad"; active: boolean } {
  if (k.revokedAt) return { label: "revoked", tone: "neutral", active: false };
  if (k.expiresAt && new Date(k.expiresAt).getTime() <= now) return { label: "expired", tone: "bad", active: false };
  if (k.expiresAt && new Date(k.expiresAt).getTime() - now < 7 * DAY) return { label: "expires soon", tone: "warn", active: true };
  return { label: "active", tone: "good", active: true };
}
