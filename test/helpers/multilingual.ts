// Messages in every script a PDF report must draw, and the text a spreadsheet must never run as a
// formula: the fixture of the PDF and workbook tests.
export const MULTILINGUAL: { role: 'user' | 'assistant' | 'agent'; content: string; script: string }[] = [
  { role: 'user', script: 'es', content: 'Hola, ¿tenéis mañana una habitación? Añadid la cuna, por favor. ÁÉÍÓÚ ü ç' },
  { role: 'assistant', script: 'fr-de', content: 'Oui, très bien : Straße, Größe, œuvre, “déjà vu” — 13,50 €' },
  { role: 'user', script: 'ru', content: 'Здравствуйте! Можно забронировать номер на двоих?' },
  { role: 'assistant', script: 'el', content: 'Καλημέρα! Ναι, έχουμε διαθέσιμο δωμάτιο για δύο.' },
  { role: 'user', script: 'ar', content: 'مرحبا، هل لديكم غرفة متاحة غدا؟' },
  { role: 'assistant', script: 'he', content: 'שלום, יש לנו חדר פנוי מחר.' },
  { role: 'user', script: 'zh', content: '你好，明天有空房间吗？我们两个人。' },
  { role: 'assistant', script: 'ja', content: 'こんにちは。明日は空室がございます。カタカナもどうぞ。' },
  { role: 'user', script: 'ko', content: '안녕하세요, 내일 방이 있나요?' },
  { role: 'agent', script: 'emoji', content: 'Perfecto 👍 ¡Os esperamos! 🎉❤️😀 ✅ 🇪🇸' },
  { role: 'user', script: 'mixed', content: 'Reserva #123: مرحبا 2 noches, 你好 y Привет 🙂' },
  { role: 'user', script: 'formula', content: '=1+1' },
  { role: 'user', script: 'formula', content: '+34 612 345 678' },
  { role: 'user', script: 'formula', content: '-2+3' },
  { role: 'user', script: 'formula', content: '@SUM(A1:A2)' },
  { role: 'user', script: 'formula', content: '=HYPERLINK("http://example.invalid","pulsa")' },
  { role: 'user', script: 'formula', content: '\tcon tabulador' },
  {
    role: 'assistant',
    script: 'long',
    content:
      'Un mensaje largo que ocupa varias líneas en el PDF: ' +
      'la habitación doble tiene baño privado, desayuno incluido y vistas al mar. '.repeat(6) +
      'https://example.invalid/una/direccion/muy/larga/que/no/cabe/en/una/linea/sin/cortarla/por/ningun/lado',
  },
];
