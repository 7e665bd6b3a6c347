import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = {
  title: 'Tern',
  description: 'Sessions and live chat with Tern coding agents',
};

export const viewport: Viewport = {
  colorScheme: 'dark',
  themeColor: '#121212',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
